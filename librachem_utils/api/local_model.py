"""Local causal LMs: load a saved model or adapter folder, and generate answers in batches.

One code path for every checkpoint: the tiny model that ``train`` builds on CPU, an adapter trained
on it, or a 7B model from the hub. A model folder is one of

- a saved model (``config.json`` + weights), loaded with ``AutoModelForCausalLM``;
- a PEFT adapter (``adapter_config.json``), loaded over the base model its config names;
- a pointer (``base_model.json``, written by ``train`` when the base is a hub id), loaded from
  what it names.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

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


def load_for_generation(model_dir: str | Path, *, dtype: Optional[torch.dtype] = None,
                        device: Optional[str] = None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a saved model, adapter folder or pointer for generation: eval mode, left padding, pad token set.

    An adapter is applied over the base model named in its ``adapter_config.json`` (``PeftModel``), not
    merged, so ``model.disable_adapter()`` still gives the base model back.
    """
    model_dir = Path(model_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if is_adapter_dir(model_dir):
        from peft import PeftModel

        base_source = adapter_base(model_dir)
        base = AutoModelForCausalLM.from_pretrained(base_source, dtype=dtype)
        model = PeftModel.from_pretrained(base, str(model_dir))
    else:
        base_source = resolve_source(model_dir)
        model = AutoModelForCausalLM.from_pretrained(base_source, dtype=dtype)
    has_tokenizer = any((model_dir / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(str(model_dir) if has_tokenizer else base_source))
    model.to(device).eval()
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
