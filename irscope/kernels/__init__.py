"""Pallas kernels for the patterns XLA fuses every day, with their plain-jnp references.

One module per kernel (`gelu`, `swish`, `softmax`, `layer_norm`, `matmul`, `flash_attention`), each
with a private `_x_kernel`, a public jitted `x(..., *, <block sizes>=None, interpret=False)`, an
`x_reference` in plain jnp and the `TOLERANCE` (dtype -> max abs error) it is held to. Import the
function from its module, as with JAX's own Pallas ops: `from irscope.kernels.softmax import softmax`
(the package does not re-export them, so `irscope.kernels.softmax` stays the module).

`harness` puts each kernel beside XLA's fused kernel for the reference and beside eager execution
(`python -m inspect.kernels`); `static` reads the bytes a kernel moves off its grid and BlockSpecs.
The kernels are written for Pallas's Triton backend (NVIDIA GPUs) and run anywhere with
`interpret=True`; `common` has the tiling rules they share.
"""

from irscope.kernels.common import KernelShapeError as KernelShapeError
from irscope.kernels.static import PallasTraffic as PallasTraffic
from irscope.kernels.static import pallas_traffic as pallas_traffic
