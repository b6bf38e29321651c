"""TFLM's fixed-point audio microfrontend inside kwsnum's bit-exact contract (docs/frontend.md, "The micro
frontend"). One module per stage (window, fft, filterbank, noise_reduction, pcan, log_scale), each with its
table builder (float32, as TFLM's *_util.c), numba kernel (the oracle) and torch (int64) reference; the C
twins are c_runtime/kws_micro_<stage>.c."""
from .spec import MicroFrontend, MicroTables, derive
from .pipeline import Stream, features, features_torch

__all__ = ["MicroFrontend", "MicroTables", "derive", "Stream", "features", "features_torch"]
