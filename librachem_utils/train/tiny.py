"""The tiny model of the CPU default: a byte-level BPE tokenizer and a small ``LlamaForCausalLM``, built here."""
from __future__ import annotations

from typing import Sequence

from librachem_utils.core.params import TinyModelParams

#: pre-tokenization: a word, a digit or a punctuation run, each with its trailing whitespace. A prompt
#: that ends in whitespace ("Answer: ") then tokenizes as a prefix of prompt + answer, as TRL expects.
_PRETOKENIZE = r"[^\W\d_]+\s*|\d\s*|[^\w\s]+\s*|_+\s*|\s+"


def train_tokenizer(texts: Sequence[str], vocab_size: int, *, entities: Sequence[str] = (),
                    model_max_length: int = 512):
    """A byte-level BPE tokenizer trained on ``texts``, with <pad>, <s> (prepended) and </s>, and one
    token for each of ``entities`` (compound names and SMILES) where it stands as a whole word."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_PRETOKENIZE), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tokenizer.token_to_id("<s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   padding_side="left", model_max_length=model_max_length)
    fast.add_tokens([AddedToken(entity, single_word=True, normalized=False) for entity in entities])
    return fast


def build_tiny_model(tokenizer, tiny: TinyModelParams, random_seed: int):
    """A randomly initialized ``LlamaForCausalLM`` sized by ``tiny``, for ``tokenizer``'s vocabulary."""
    from transformers import LlamaConfig, LlamaForCausalLM, set_seed

    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=tiny.hidden_size, intermediate_size=tiny.intermediate_size,
        num_hidden_layers=tiny.num_hidden_layers, num_attention_heads=tiny.num_attention_heads,
        num_key_value_heads=tiny.num_attention_heads, max_position_embeddings=tiny.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    set_seed(random_seed)
    model = LlamaForCausalLM(config)
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(model.generation_config, key, getattr(config, key))
    return model
