from enum import StrEnum


class ErrorCode(StrEnum):
    """Extensible enum: a value the service adds later parses as a member that is not in the class's listing."""

    CONFLICT = "Conflict"
    FORBIDDEN = "Forbidden"
    INTERNALCOMMUNICATIONFAILED = "InternalCommunicationFailed"
    INTERNALSERVERERROR = "InternalServerError"
    INVALIDARGUMENT = "InvalidArgument"
    INVALIDREQUEST = "InvalidRequest"
    NOTALLOWED = "NotAllowed"
    NOTFOUND = "NotFound"
    PIPELINEERROR = "PipelineError"
    SERVICEUNAVAILABLE = "ServiceUnavailable"
    TOOMANYREQUESTS = "TooManyRequests"
    UNAUTHORIZED = "Unauthorized"
    UNPROCESSABLEENTITY = "UnprocessableEntity"
    UNSUPPORTEDMEDIATYPE = "UnsupportedMediaType"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ErrorCode | None":
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
