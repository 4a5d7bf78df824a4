"""Training FLOPs: hand counts for a tiny config, PaLM's per-token form, the real model's weights, torch's
flop counter on real training steps, and the counts read from TRL-shaped batches."""
import pytest
import torch

from librachem_utils.train import flops
from librachem_utils.train.flops import LlamaShape, Lora

#: d 8, MLP 16, 2 layers, 2 heads of 4 and 1 kv head (kv width 4), vocabulary 10
TINY = LlamaShape(hidden=8, intermediate=16, layers=2, heads=2, kv_heads=1, vocab=10)
ALL_LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _tiny_llama(lora_rank=None):
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=10, hidden_size=8, intermediate_size=16, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                         attn_implementation="eager")  # attention as matmuls the flop counter sees
    model = LlamaForCausalLM(config)
    if lora_rank is None:
        return model
    return get_peft_model(model, LoraConfig(r=lora_rank, lora_dropout=0.0, target_modules=list(ALL_LINEARS)))


def test_weights_by_hand():
    # per layer: q 8x8 + k 8x4 + v 8x4 + o 8x8 + gate, up 8x16 + down 16x8 = 64 + 32 + 32 + 64 + 3 * 128 = 576
    assert TINY.kv_width == 4
    assert TINY.block_weights == 2 * 576
    assert TINY.head_weights == 80
    # rank 2: q 2x(8+8) + k, v 2x(8+4) + o 2x(8+8) + gate, up, down 2x(8+16) = 32 + 24 + 24 + 32 + 3 * 48 = 256
    assert TINY.lora_weights(2, None) == 2 * 256
    assert TINY.lora_weights(2, ["q_proj", "v_proj"]) == 2 * (32 + 24)
    with pytest.raises(ValueError, match="lm_head"):
        TINY.lora_weights(2, ["lm_head"])


def test_forward_and_full_training_by_hand():
    # 5 tokens, 4 scored: 2 * 1152 * 5 + 2 * 80 * 4 + attention 4 * 2 layers * 8 * 5**2
    assert flops.forward_flops(TINY, 5, 4) == 11520 + 640 + 1600
    assert flops.full_training_flops(TINY, 5, 4) == 3 * 13760
    assert flops.sequence_flops("pretrain", TINY, 5, 4) == 3 * 13760


@pytest.mark.parametrize("seq_len", [1, 7, 256])
def test_full_training_is_palms_6n_plus_12lds_per_token(seq_len):
    per_token = 6 * (1152 + 80) + 12 * 2 * 8 * seq_len
    assert flops.palm_training_flops_per_token(TINY, seq_len) == per_token
    assert flops.full_training_flops(TINY, seq_len, seq_len) == per_token * seq_len


def test_lora_training_by_hand():
    lora = Lora(rank=2)
    forward = 13760
    attention_backward = 2 * 1600
    # frozen input gradients: every block matmul but block 0's q/k/v (8 x (8 + 4 + 4) = 128), and the head
    input_gradients = 2 * (1152 - 128) * 5 + 2 * 80 * 4
    # adapters: 3 x their forward, less the input gradient of block 0's q/k/v A matrices (2 x 8 each)
    adapters = (6 * 512 - 2 * 3 * 2 * 8) * 5
    expected = forward + attention_backward + input_gradients + adapters
    assert flops.lora_training_flops(TINY, 5, 4, lora) == expected == 42720
    assert flops.sequence_flops("sft", TINY, 5, 4, lora) == expected
    assert flops.lora_training_flops(TINY, 5, 4, Lora(2, ALL_LINEARS)) == expected


def test_dpo_adds_the_reference_forward_unless_precomputed():
    lora = Lora(rank=2)
    policy = flops.lora_training_flops(TINY, 5, 4, lora)
    assert flops.sequence_flops("dpo", TINY, 5, 4, lora) == policy + 13760
    assert flops.sequence_flops("dpo", TINY, 5, 4, lora, reference_per_step=False) == policy
    with pytest.raises(ValueError, match="LoRA"):
        flops.sequence_flops("dpo", TINY, 5, 4)
    with pytest.raises(ValueError, match="unknown stage"):
        flops.sequence_flops("ppo", TINY, 5, 4, lora)


def test_batch_is_the_sum_of_its_sequences():
    lora = Lora(rank=2)
    expected = flops.sequence_flops("dpo", TINY, 5, 4, lora) + flops.sequence_flops("dpo", TINY, 3, 1, lora)
    assert flops.batch_flops("dpo", TINY, [5, 3], [4, 1], lora) == expected
    with pytest.raises(ValueError, match="2 lengths but 1"):
        flops.batch_flops("pretrain", TINY, [5, 3], [4])


def test_shape_matches_a_real_llama_and_its_lora():
    from peft import LoraConfig, get_peft_model

    model = _tiny_llama()
    shape = LlamaShape.from_config(model.config)
    assert shape == TINY
    linears = sum(p.numel() for name, p in model.named_parameters() if name.endswith("proj.weight"))
    assert linears == shape.block_weights
    assert model.lm_head.weight.numel() == shape.head_weights
    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "k_proj", "down_proj"]))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert trainable == shape.lora_weights(2, ["q_proj", "k_proj", "down_proj"]) == 2 * (32 + 24 + 48)


@pytest.mark.parametrize("lora", [None, Lora(rank=2)])
def test_training_step_matches_torchs_flop_counter(lora):
    from torch.utils.flop_counter import FlopCounterMode

    model = _tiny_llama(lora and lora.rank)
    ids = torch.randint(0, 10, (3, 6))
    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids, labels=ids, use_cache=False).loss.backward()
    # a plain forward projects all 6 positions through the head
    if lora is None:
        per_sequence = flops.full_training_flops(TINY, 6, 6)
    else:
        per_sequence = flops.lora_training_flops(TINY, 6, 6, lora)
    assert counter.get_total_flops() == 3 * per_sequence


def test_reference_forward_matches_torchs_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    model = _tiny_llama(lora_rank=2)
    ids = torch.randint(0, 10, (2, 7))
    with torch.no_grad(), model.disable_adapter(), FlopCounterMode(display=False) as counter:
        model(input_ids=ids, use_cache=False)
    assert counter.get_total_flops() == 2 * flops.forward_flops(TINY, 7, 7)


def test_padded_batch_counts():
    # two right-padded rows of 4 slots: 3 and 2 real tokens; the second's prompt token unscored (SFT labels)
    batch = {"input_ids": torch.tensor([[5, 6, 7, 0], [5, 6, 0, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]]),
             "labels": torch.tensor([[5, 6, 7, -100], [-100, 6, -100, -100]])}
    counts = flops.batch_counts(batch)
    assert counts.lengths == (3, 2)
    assert counts.scored == (2, 1)
    assert (counts.slots, counts.attention_pairs) == (8, 2 * 16)


def test_dpo_batch_scores_the_completion():
    batch = {"input_ids": torch.tensor([[5, 6, 7, 8], [5, 6, 9, 0]]),
             "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
             "completion_mask": torch.tensor([[0, 0, 1, 1], [0, 0, 1, 0]])}
    counts = flops.batch_counts(batch)
    assert counts.lengths == (4, 3)
    assert counts.scored == (2, 1)


def test_packed_row_counts_each_document():
    # one padding-free row of three documents (3, 2 and 4 tokens); TRL's collator unlabels each document start
    positions = torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3]])
    labels = torch.tensor([[-100, 6, 7, -100, 9, -100, 4, 5, 6]])
    counts = flops.batch_counts({"input_ids": torch.zeros(1, 9, dtype=torch.long), "position_ids": positions,
                                 "labels": labels})
    assert counts.lengths == (3, 2, 4)
    assert counts.scored == (2, 1, 3)
    assert (counts.slots, counts.attention_pairs) == (9, 81)
