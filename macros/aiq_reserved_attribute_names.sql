{#-
    Braze profile fields that a custom attribute may not be named after
    (../shared/reference/braze-api.md, section 2.5), plus the identifiers.
-#}
{% macro aiq_reserved_attribute_names() -%}
    {{ return([
        'external_id', 'braze_id', 'user_alias', 'user_aliases', 'alias_name', 'alias_label',
        'first_name', 'last_name', 'email', 'phone', 'country', 'language', 'dob', 'gender',
        'home_city', 'time_zone', 'current_location', 'date_of_first_session',
        'date_of_last_session', 'marked_email_as_spam_at', 'email_subscribe', 'push_subscribe',
        'email_open_tracking_disabled', 'email_click_tracking_disabled', 'push_tokens',
        'push_token_import', 'subscription_groups', 'facebook', 'twitter', 'image_url', 'bio',
        'update_existing_only', '_update_existing_only'
    ]) }}
{%- endmacro %}
