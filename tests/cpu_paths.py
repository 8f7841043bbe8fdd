"""An environment that makes numpy and OpenBLAS take other code paths than they
would on this machine, to stand in for "another computer".

numpy picks SIMD kernels (AVX2, AVX-512, ...) at run time from the CPU it finds,
and OpenBLAS picks its matrix kernels the same way; the results can differ in the
last bit.  A notebook whose printed numbers or figures depend on those bits would
pass here and fail on a reader's machine.  Executing it with only numpy's baseline
kernels and OpenBLAS's Nehalem kernels (what an older x86-64 CPU would use) exposes
such a notebook now.
"""
import os
import platform

# The variables other_cpu_env() sets to choose the code paths.
VARIABLES = ("NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE")


def other_cpu_env() -> dict[str, str]:
    env = dict(os.environ)
    if platform.machine() not in ("x86_64", "AMD64"):
        return env  # the kernels named below exist on x86-64 only
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    # Only features this CPU has can be disabled (numpy complains about others).
    dispatched = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    if dispatched:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatched)
    env["OPENBLAS_CORETYPE"] = "Nehalem"
    return env
