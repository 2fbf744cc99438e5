from tests.pipeline import pipeline  # noqa: F401  (the main job on a temporary warehouse)
