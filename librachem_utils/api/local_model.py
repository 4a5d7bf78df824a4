"""Local causal LMs: load a saved model or adapter folder, and generate answers in batches.

One code path for every checkpoint: the tiny model that ``train`` builds on CPU, an adapter trained
on it, or a 7B model from the hub. A model folder is one of

- a saved model (``config.json`` + weights), loaded with ``AutoModelForCausalLM``;
- a PEFT adapter (``adapter_config.json``), loaded over the base model its config names;
- a pointer (``base_model.json``, written by ``train`` when the base is a hub id), loaded from
  what it names.

Loading follows ``train.model`` where given: its dtype, and 4-bit weights (bitsandbytes) for a run
trained with ``load_in_4bit``, so that evaluation sees the model as training did.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from librachem_utils.core.params import ModelParams

#: file that names the base model when a run's ``models/base`` folder holds no weights of its own
POINTER_FILE = "base_model.json"


def format_prompt(template: str, prompt: str) -> str:
    """The request as the model sees it, e.g. ``"Question: {prompt}\\n\\nAnswer: "``."""
    return template.format(prompt=prompt)


def resolve_source(model_dir: str | Path) -> str:
    """The folder or hub id to load weights from: ``model_dir`` itself, or what its pointer names."""
    pointer = Path(model_dir) / POINTER_FILE
    if pointer.is_file():
        return json.loads(pointer.read_text(encoding="utf-8"))["base_model"]
    return str(model_dir)


def is_adapter_dir(model_dir: str | Path) -> bool:
    return (Path(model_dir) / "adapter_config.json").is_file()


def prepare_tokenizer(tokenizer: PreTrainedTokenizerBase, padding_side: str = "left") -> PreTrainedTokenizerBase:
    """Set the padding side and make sure a pad token exists (the EOS token where none was saved)."""
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def adapter_base(adapter_dir: str | Path) -> str:
    """What an adapter folder's ``adapter_config.json`` names as its base, resolved like any model folder."""
    from peft import PeftConfig

    return resolve_source(PeftConfig.from_pretrained(str(adapter_dir)).base_model_name_or_path)


def resolve_dtype(name: str, device: str) -> torch.dtype:
    """``train.model.dtype`` on ``device``: ``auto`` is bfloat16 where the GPU supports it, else float32."""
    bf16_supported = device == "cuda" and torch.cuda.is_bf16_supported()
    if name == "bfloat16" and device == "cuda" and not bf16_supported:
        raise ValueError(f"train.model.dtype is bfloat16 but {torch.cuda.get_device_name()} has no bf16 support; "
                         "use auto")
    if name == "auto":
        return torch.bfloat16 if bf16_supported else torch.float32
    return getattr(torch, name)


def bnb_4bit_config(quant_type: str, nested_quant: bool, compute_dtype: torch.dtype, storage_dtype=None):
    """The bitsandbytes 4-bit quantization of QLoRA: frozen weights in ``quant_type``, compute in ``compute_dtype``;
    ``storage_dtype`` packs the 4-bit weights in that dtype (FSDP shards them only when it is the compute dtype)."""
    from transformers import BitsAndBytesConfig

    storage = {"bnb_4bit_quant_storage": storage_dtype} if storage_dtype is not None else {}
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=quant_type, bnb_4bit_compute_dtype=compute_dtype,
                              bnb_4bit_use_double_quant=nested_quant, **storage)


def load_for_generation(model_dir: str | Path, loading: Optional[ModelParams] = None, *,
                        device: Optional[str] = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a saved model, adapter folder or pointer for generation: eval mode, left padding, pad token set.

    ``loading`` (``train.model``) gives the dtype and 4-bit loading; without it, the ``auto`` dtype and
    plain weights. An adapter is applied over the base model named in its ``adapter_config.json``
    (``PeftModel``), not merged, so ``model.disable_adapter()`` still gives the base model back.
    """
    model_dir, loading = Path(model_dir), loading or ModelParams()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    kwargs: dict = {"dtype": resolve_dtype(loading.dtype, device)}
    if loading.load_in_4bit:  # placed on the device as it loads: a 4-bit model cannot be moved after
        kwargs.update(device_map={"": device}, quantization_config=bnb_4bit_config(
            loading.bnb_4bit_quant_type, loading.use_bnb_nested_quant, kwargs["dtype"]))
    adapter = is_adapter_dir(model_dir)
    base_source = adapter_base(model_dir) if adapter else resolve_source(model_dir)
    model = AutoModelForCausalLM.from_pretrained(base_source, **kwargs)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(model_dir))
    has_tokenizer = any((model_dir / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(str(model_dir) if has_tokenizer else base_source))
    if not loading.load_in_4bit:
        model.to(device)
    model.eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


@torch.no_grad()
def generate(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[str], *, template: str,
             batch_size: int, max_new_tokens: int, do_sample: bool = False, temperature: float = 1.0, seed: int = 0,
             progress: bool = True) -> list[str]:
    """Answer ``prompts`` (raw requests) in batches; return only the new text of each, in input order.

    Prompts are formatted with ``template``, sorted by length so that a batch holds similar lengths,
    left-padded, and decoded without special tokens. Greedy by default; with ``do_sample`` the
    ``seed`` fixes the draws.
    """
    from transformers import set_seed

    prepare_tokenizer(tokenizer, "left")
    texts = [format_prompt(template, prompt) for prompt in prompts]
    lengths = [len(ids) for ids in tokenizer(texts).input_ids] if texts else []
    order = sorted(range(len(texts)), key=lengths.__getitem__)
    answers: list[str] = [""] * len(texts)
    device = next(model.parameters()).device
    sampling = {"do_sample": True, "temperature": temperature} if do_sample else {"do_sample": False}
    set_seed(seed)
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc="generate", unit="batch", disable=not progress):
        batch = order[start:start + batch_size]
        inputs = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True).to(device)
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                **sampling)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        for i, text in zip(batch, tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
            answers[i] = text.strip()
    return answers
