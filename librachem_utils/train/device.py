"""What training runs on: CUDA if present, else CPU; the dtype and 4-bit loading the params ask for."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from librachem_utils.api.local_model import resolve_dtype
from librachem_utils.core.params import ModelParams


@dataclass(frozen=True)
class DeviceSettings:
    """What training runs on, picked from what is there and from ``train.model``."""

    device: str  # "cuda" or "cpu"
    gpu: Optional[str]
    bf16: bool  # bf16 weights and mixed precision (and bf16 compute for 4-bit layers)
    load_in_4bit: bool  # QLoRA: frozen weights in 4-bit (bitsandbytes)
    bnb_4bit_quant_type: str
    use_bnb_nested_quant: bool
    gradient_checkpointing: bool
    torch_threads: int

    @property
    def dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.bf16 else torch.float32

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).replace("torch.", "")

    def describe(self) -> str:
        where = f"cuda ({self.gpu})" if self.device == "cuda" else f"cpu ({self.torch_threads} threads)"
        weights = f"4-bit {self.bnb_4bit_quant_type} (QLoRA)" if self.load_in_4bit else self.dtype_name
        return f"{where}, weights {weights}, bf16 {self.bf16}, gradient checkpointing {self.gradient_checkpointing}"


def pick_device(model: ModelParams) -> DeviceSettings:
    """CUDA if present, else CPU; the dtype of ``model.dtype`` (auto: bf16 where the GPU has it); 4-bit if asked."""
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    return DeviceSettings(
        device=device,
        gpu=torch.cuda.get_device_name() if cuda else None,
        bf16=resolve_dtype(model.dtype, device) == torch.bfloat16,
        load_in_4bit=model.load_in_4bit,
        bnb_4bit_quant_type=model.bnb_4bit_quant_type,
        use_bnb_nested_quant=model.use_bnb_nested_quant,
        gradient_checkpointing=cuda,
        torch_threads=torch.get_num_threads(),
    )
