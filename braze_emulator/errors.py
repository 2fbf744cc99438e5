"""Errors of the emulated Braze API: one class per API error (after moto's layout).

`ApiError` subclasses end a whole request with an HTTP status and a JSON body.
`ObjectError` rejects one object of a /users/track request; it becomes an entry of `errors[]`.
Neither knows about HTTP beyond the status number carried as data.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request-level error: the status and the JSON body Braze answers with."""

    status = 400
    message = "Bad Request"

    def __init__(self, message: str | None = None, errors: list[dict[str, Any]] | None = None):
        self.message = message or type(self).message
        self.errors = errors
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class MalformedJson(ApiError):
    status = 400
    message = "Error while parsing request body. Please check your syntax."


class MaxInputLengthExceeded(ApiError):
    status = 400
    message = "Max Input Length Exceeded"


class NoValidData(ApiError):
    status = 400
    message = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."


class InvalidRequest(ApiError):
    """A request body whose shape is wrong (e.g. `attributes` not an array)."""

    status = 400
    message = "Invalid request"


class TooManyExportIds(ApiError):
    status = 400
    message = "The max number of external_ids and aliases per request was exceeded"


class InvalidExportRequest(ApiError):
    status = 400
    message = "Invalid export request"


class InvalidApiKey(ApiError):
    status = 401
    message = "Invalid API Key"


class AccessDenied(ApiError):
    status = 403
    message = "Access Denied"


class NotFound(ApiError):
    status = 404
    message = "Not Found"


class PayloadTooLarge(ApiError):
    status = 413
    message = "Request Entity Too Large"


class UnsupportedMediaType(ApiError):
    status = 415
    message = "Unsupported Media Type: Content-Type must be application/json"


class RateLimited(ApiError):
    status = 429
    message = "API rate limit exceeded"


class InternalServerError(ApiError):
    status = 500
    message = "Internal Server Error"


class BadGateway(ApiError):
    status = 502
    message = "Bad Gateway"


class ServiceUnavailable(ApiError):
    status = 503
    message = "Service Unavailable"


class GatewayTimeout(ApiError):
    status = 504
    message = "Gateway Timeout"


SERVER_ERRORS: dict[int, type[ApiError]] = {
    500: InternalServerError,
    502: BadGateway,
    503: ServiceUnavailable,
    504: GatewayTimeout,
}


class ControlError(ApiError):
    """A bad request to the emulator's own control plane."""

    status = 400
    message = "Bad control-plane request"


class UnknownRoute(ApiError):
    """Any path the emulator does not implement: fail loudly, never answer 200."""

    status = 404
    message = "The Braze emulator does not implement this route"


# Per-object errors (entries of errors[] on /users/track). `code` is Braze's documented endpoint
# error code; `text` the human-readable form every observed payload carries.


class ObjectError(Exception):
    code = "INVALID_OBJECT"
    text = "The object is not valid"

    def __init__(self, text: str | None = None):
        self.text = text or type(self).text
        super().__init__(self.text)

    def type_value(self, style: str) -> str:
        return self.code if style == "code" else self.text


class MissingIdentifier(ObjectError):
    code = "MISSING_IDENTIFIER"
    text = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"


class MultipleIdentifiers(ObjectError):
    code = "MULTIPLE_IDENTIFIERS"
    text = "You must specify only one of 'external_id', 'user_alias' or 'braze_id'"


class ExternalIdTooLarge(ObjectError):
    code = "EXTERNAL_USER_ID_TOO_LARGE"
    text = "'external_id' must be at most 987 bytes"


class InvalidIdentifier(ObjectError):
    code = "INVALID_IDENTIFIER"
    text = "The identifier is not valid"


class UnknownBrazeId(ObjectError):
    code = "UNKNOWN_BRAZE_ID"
    text = "'braze_id' does not match any user"


class UserNotFound(ObjectError):
    code = "USER_NOT_FOUND"
    text = "No user matches the identifier and '_update_existing_only' is true"


class BlockedExternalId(ObjectError):
    code = "BLACKLISTED_EXTERNAL_USER_ID"
    text = "provided external_id is blacklisted and disallowed"


class EmailBadFormat(ObjectError):
    code = "EMAIL_BAD_FORMAT"
    text = "The value provided for the 'email' field is not a valid email."


class BadEmailSubscriptionState(ObjectError):
    code = "BAD_EMAIL_SUBSCRIPTION_STATE"
    text = "'email_subscribe' must be 'subscribed', 'unsubscribed', or 'opted_in'"


class BadPushSubscriptionState(ObjectError):
    code = "BAD_PUSH_SUBSCRIPTION_STATE"
    text = "'push_subscribe' must be 'subscribed', 'unsubscribed', or 'opted_in'"


class BadLocation(ObjectError):
    code = "BAD_LOCATION_UPDATE"
    text = "'current_location' must have numeric 'longitude' and 'latitude'"


class BadSubscriptionGroup(ObjectError):
    code = "BAD_SUBSCRIPTION_GROUP_HASH"
    text = "'subscription_groups' is not valid"


class BadPushToken(ObjectError):
    code = "BAD_PUSH_TOKEN_VALUE"
    text = "'push_tokens' is not valid"


class InvalidProfileField(ObjectError):
    code = "INVALID_PROFILE_FIELD"
    text = "A profile field value is not valid"


class InvalidAttributeName(ObjectError):
    code = "INVALID_ATTRIBUTE_NAME"
    text = "Custom attribute names must be 1-255 characters and must not start with '$'"


class InvalidAttributeValue(ObjectError):
    code = "INVALID_ATTRIBUTE_VALUE"
    text = "A custom attribute value is not valid"


class StringTooLong(ObjectError):
    code = "STRING_TOO_LONG"
    text = "String values must be at most 255 characters"


class ArrayTooLong(ObjectError):
    code = "ARRAY_TOO_LONG"
    text = "Array attribute exceeds the maximum number of elements"


class NestedTooLarge(ObjectError):
    code = "NESTED_ATTRIBUTE_TOO_LARGE"
    text = "Nested custom attribute exceeds 100 KB"


class IncOnNonNumeric(ObjectError):
    code = "INVALID_INCREMENT"
    text = "'inc' can only be applied to a numeric attribute"


class MissingEventName(ObjectError):
    code = "MISSING_NAME"
    text = "'name' is required"


class InvalidEventName(ObjectError):
    code = "INVALID_NAME"
    text = "'name' must be a non-empty string of at most 255 characters"


class MissingTime(ObjectError):
    code = "MISSING_TIME"
    text = "'time' is required"


class InvalidTime(ObjectError):
    code = "INVALID_TIME"
    text = "'time' is not a valid time"


class InvalidProperties(ObjectError):
    code = "INVALID_PROPERTIES"
    text = "'properties' is not valid"


class ReservedPropertyName(ObjectError):
    code = "RESERVED_PROPERTY_NAME"
    text = "'time' and 'event_name' are reserved property names"


class PropertiesTooLarge(ObjectError):
    code = "PROPERTIES_TOO_LARGE"
    text = "'properties' with nested values exceed the size limit"


class InvalidProductId(ObjectError):
    code = "INVALID_PRODUCT_ID"
    text = "'product_id' must be a non-empty string of at most 255 characters"


class InvalidCurrency(ObjectError):
    code = "INVALID_CURRENCY"
    text = "'currency' must be a three-letter ISO-4217 code"


class InvalidPrice(ObjectError):
    code = "INVALID_PRICE"
    text = "'price' must be a number"


class InvalidQuantity(ObjectError):
    code = "INVALID_QUANTITY"
    text = "'quantity' is not valid"


class NotAnObject(ObjectError):
    code = "NOT_AN_OBJECT"
    text = "Each array entry must be a JSON object"
