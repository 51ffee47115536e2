from enum import StrEnum


class Status(StrEnum):
    """Extensible enum: a value the service adds later parses as a member that is not in the class's listing."""

    FAILED = "Failed"
    NOTSTARTED = "NotStarted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "Status | None":
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
