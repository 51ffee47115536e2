"""Contains all the data models used in inputs/outputs"""

from .custom_model import CustomModel
from .custom_model_custom_properties import CustomModelCustomProperties
from .custom_model_deprecation_dates import CustomModelDeprecationDates
from .custom_model_features import CustomModelFeatures
from .custom_model_links import CustomModelLinks
from .custom_model_properties import CustomModelProperties
from .detailed_error_code import DetailedErrorCode
from .entity_error import EntityError
from .entity_reference import EntityReference
from .error import Error
from .error_code import ErrorCode
from .inner_error import InnerError
from .inner_error_details import InnerErrorDetails
from .output_format_type import OutputFormatType
from .paginated_custom_models import PaginatedCustomModels
from .status import Status

__all__ = (
    "CustomModel",
    "CustomModelCustomProperties",
    "CustomModelDeprecationDates",
    "CustomModelFeatures",
    "CustomModelLinks",
    "CustomModelProperties",
    "DetailedErrorCode",
    "EntityError",
    "EntityReference",
    "Error",
    "ErrorCode",
    "InnerError",
    "InnerErrorDetails",
    "OutputFormatType",
    "PaginatedCustomModels",
    "Status",
)
