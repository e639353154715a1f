"""Schema extensions: error codes, operation metrics, document limits and caches."""

from gateway.extensions.errors import ErrorCodeMapper
from gateway.extensions.limits import document_limits
from gateway.extensions.metrics import OperationMetricsRecorder

__all__ = ["ErrorCodeMapper", "OperationMetricsRecorder", "document_limits"]
