"""Fails the build, naming the setting, when the landing dir does not exist.

A missing folder would otherwise read as "no deliveries": the build would pass and a
misconfigured AIQ_LANDING_DIR would go unnoticed. SQL cannot tell a missing folder from an
empty one (DuckDB's glob returns nothing for both), hence this one Python model. Every staging
model depends on it.
"""

import os
import re

# The project var's default is itself a template (env_var('AIQ_LANDING_DIR', 'data/landing') in
# double braces) and YAML config renders it once: resolve that one form here; a --vars override
# is a plain path.
ENV_VAR_TEMPLATE = re.compile(r"\{\{\s*env_var\('([A-Z_]+)',\s*'([^']*)'\)\s*\}\}")


def model(dbt, session):
    dbt.config(materialized="table")
    landing = dbt.config.get("landing_dir")
    match = ENV_VAR_TEMPLATE.fullmatch(landing.strip())
    if match:
        landing = os.environ.get(match.group(1), match.group(2))
    if not os.path.isdir(landing):
        raise ValueError(
            f"AIQ_LANDING_DIR: the landing dir {landing!r} does not exist "
            f"(relative paths start at the project root, {os.getcwd()!r}). "
            "Set AIQ_LANDING_DIR to the folder ActionIQ delivers to."
        )
    return session.sql("select 1 as is_present")
