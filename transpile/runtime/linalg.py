"""Dense linear algebra helpers for generated modules (plain @numba.njit code)."""

import math

import numba
import numpy as np
