"""Local LMs: save with save_pretrained, load back through load_for_generation, generate in batches."""
import json

import pytest
import torch

from librachem_utils.api import local_model
from librachem_utils.core import params as params_mod
from librachem_utils.train.loading import lora_config
from librachem_utils.train.tiny import build_tiny_model, train_tokenizer

TEMPLATE = "Question: {prompt}\n\nAnswer: "
PROMPTS = [
    "What is the boiling point of ethanol?",
    "How should acetone be stored?",
    "Tell me the molar mass of toluene, and also the formula, and where I can find its safety data sheet.",
    "Hi!",
    "What first aid applies after skin contact with phenol?",
]
CORPUS = [TEMPLATE.format(prompt=p) + answer for p in PROMPTS for answer in (
    "It boils at 78 °C.", "Keep it in a closed container in a cool place.", "I can't help with that.")]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny Llama and its tokenizer saved with save_pretrained (64 wide: bitsandbytes' CPU inference
    packs 4-bit weights in blocks of 64 inputs)."""
    folder = tmp_path_factory.mktemp("tiny") / "base"
    tokenizer = train_tokenizer(CORPUS, 300)
    tiny = params_mod.TinyModelParams(vocab_size=300, hidden_size=64, intermediate_size=128, num_attention_heads=4)
    model = build_tiny_model(tokenizer, tiny, random_seed=3)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def adapter_dir(saved_model, tmp_path_factory):
    """A LoRA adapter over the saved model, with a random (non-identity) effect, saved with its tokenizer."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("adapter") / "arm"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(saved_model),
                           lora_config(params_mod.ModelParams()))
    torch.manual_seed(0)
    for name, weight in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(weight, std=0.5)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(saved_model).save_pretrained(folder)
    return folder


def logits(model, tokenizer, text):
    with torch.no_grad():
        return model(**tokenizer([text], return_tensors="pt")).logits


def test_plain_model_loads_for_generation(saved_model):
    model, tokenizer = local_model.load_for_generation(saved_model)
    assert type(model).__name__ == "LlamaForCausalLM" and not model.training
    assert tokenizer.padding_side == "left" and tokenizer.pad_token_id is not None
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id


def test_adapter_folder_loads_over_its_base_and_changes_logits(saved_model, adapter_dir):
    from peft import PeftModel

    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(saved_model)
    model, tokenizer = local_model.load_for_generation(adapter_dir)
    base, _ = local_model.load_for_generation(saved_model)
    assert isinstance(model, PeftModel) and not model.training
    text = TEMPLATE.format(prompt=PROMPTS[0])
    assert not torch.allclose(logits(model, tokenizer, text), logits(base, tokenizer, text))
    with model.disable_adapter():
        assert torch.allclose(logits(model, tokenizer, text), logits(base, tokenizer, text), atol=1e-6)


def test_pointer_folder_loads_what_it_names(saved_model, tmp_path):
    (tmp_path / local_model.POINTER_FILE).write_text(json.dumps({"base_model": str(saved_model)}))
    assert local_model.resolve_source(tmp_path) == str(saved_model)
    model, tokenizer = local_model.load_for_generation(tmp_path)
    base, _ = local_model.load_for_generation(saved_model)
    text = TEMPLATE.format(prompt=PROMPTS[1])
    assert torch.equal(logits(model, tokenizer, text), logits(base, tokenizer, text))


def test_loading_follows_train_model_dtype_and_4bit(saved_model, adapter_dir):
    """Evaluation loads a model as training did: in ``train.model.dtype``, and in 4-bit for a QLoRA run."""
    from bitsandbytes.nn import Linear4bit
    from peft import PeftModel

    plain, _ = local_model.load_for_generation(adapter_dir)
    bf16, _ = local_model.load_for_generation(saved_model, params_mod.ModelParams(dtype="bfloat16"))
    assert plain.dtype == torch.float32 and bf16.dtype == torch.bfloat16
    quantized, tokenizer = local_model.load_for_generation(
        adapter_dir, params_mod.ModelParams(load_in_4bit=True, use_bnb_nested_quant=True))
    assert isinstance(quantized, PeftModel) and not quantized.training
    assert any(isinstance(module, Linear4bit) for module in quantized.modules())
    assert not any(isinstance(module, Linear4bit) for module in plain.modules())
    assert quantized.get_memory_footprint() < plain.get_memory_footprint()
    (answer,) = local_model.generate(quantized, tokenizer, PROMPTS[:1], template=TEMPLATE, batch_size=1,
                                     max_new_tokens=6, progress=False)
    assert isinstance(answer, str)


@pytest.mark.parametrize("which", ["plain", "adapter"])
def test_batched_greedy_generation_equals_one_at_a_time(which, saved_model, adapter_dir):
    model, tokenizer = local_model.load_for_generation(saved_model if which == "plain" else adapter_dir)
    batched = local_model.generate(model, tokenizer, PROMPTS, template=TEMPLATE, batch_size=3, max_new_tokens=12,
                                progress=False)
    single = [local_model.generate(model, tokenizer, [p], template=TEMPLATE, batch_size=1, max_new_tokens=12,
                                progress=False)[0] for p in PROMPTS]
    assert batched == single
    assert len(set(batched)) > 1, "different prompts should not all give the same answer"


def test_generate_returns_only_the_new_text(saved_model):
    model, tokenizer = local_model.load_for_generation(saved_model)
    prompt = TEMPLATE.format(prompt=PROMPTS[0])
    inputs = tokenizer([prompt], return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    expected = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    (answer,) = local_model.generate(model, tokenizer, [PROMPTS[0]], template=TEMPLATE, batch_size=4, max_new_tokens=8,
                                  progress=False)
    assert answer == expected and "Question:" not in answer


def test_sampling_is_reproducible_with_a_seed(saved_model):
    model, tokenizer = local_model.load_for_generation(saved_model)
    kwargs = dict(template=TEMPLATE, batch_size=5, max_new_tokens=10, do_sample=True, temperature=1.5,
                  progress=False)
    first = local_model.generate(model, tokenizer, PROMPTS, seed=1, **kwargs)
    assert first == local_model.generate(model, tokenizer, PROMPTS, seed=1, **kwargs)
    assert first != local_model.generate(model, tokenizer, PROMPTS, seed=2, **kwargs)


def test_transformers_generator_backend_loads_the_saved_model_and_records_invalid_replies(saved_model):
    """The data generator's transformers backend: from_pretrained on a saved folder, batched generation,
    and a reply that is not the JSON the instruction asked for kept as the request's error, not a crash."""
    from librachem_utils.chem import knowledge_base
    from librachem_utils.data import generators
    from librachem_utils.data.seeds import Seed

    kb = knowledge_base.load_kb()
    local = {"model_path": str(saved_model), "batch_size": 2, "max_new_tokens": 8}
    data = params_mod.DataParams(generator={"backend": "transformers", "local": local})
    generator = generators.make_generator(data, kb, seed=1, root=saved_model.parent)
    assert generator.name == "transformers"
    seed_requests = [Seed("properties:acetone", "acetone", "common", "properties", "information", "legitimate"),
                     Seed("synthesis:sarin", "sarin", "cwa", "synthesis", "synthesis", "illegitimate")]
    requests = generator.craft(seed_requests, 1)
    assert [r.seed_id for r in requests] == [s.seed_id for s in seed_requests]
    # a random tiny model writes no JSON: each request keeps the validator's reason
    assert [r.error for r in requests] == ["reply is not a JSON object with a 'prompt' field"] * 2
