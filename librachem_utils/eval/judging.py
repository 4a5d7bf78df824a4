"""Judge rows of responses with any judges of ``judges`` (what each judge is: see there)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

from librachem_utils.chem.knowledge_base import KnowledgeBase, UnknownCompoundError
from librachem_utils.core.params import ApiParams
from librachem_utils.core.schema import LEGITIMATE
from librachem_utils.eval import factcheck
from librachem_utils.eval.guard_judges import (
    GUARDS,
    ask_llama_guard,
    ask_wildguard,
    guard_harmful,
    guard_reason,
    guard_refused,
)
from librachem_utils.eval.judge_models import Reply, open_backend
from librachem_utils.eval.judges import (
    ALL_JUDGES,
    LLM_JUDGE_PROMPT,
    OFFICIAL_LLM_PROMPT,
    JudgeSetup,
    hybrid_refused,
    judge_info,
    llm_refused,
    official_refused,
    parse_label_reply,
    parse_official_reply,
    rule_refused,
)
from librachem_utils.safety import hazard, refusal


def judge_rows(rows: Sequence[dict], judges: Sequence[str], setup: Union[JudgeSetup, ApiParams, None],
               cache_root: Path, kb: KnowledgeBase, *, progress: bool = True) -> list[dict]:
    """Copies of ``rows`` (prompt, response, label, ...) with

    - ``refused: {judge: bool|None}``; ``hazard`` (the hazard gate); ``degenerate`` (the detector's
      flag, which explains the rule's verdict); ``fact_correct`` (``factcheck``; None for a refusal);
    - ``rule_label`` and ``cues`` (the detector's three-class label and the cues that fired),
      ``llm_label`` (the LLM's three-class label, None where it did not run or failed),
      ``guards: {guard: its parsed reply, None where it failed}`` for the guards that ran;
    - ``judge_info: {judge: {method, model, prompt_sha256}}`` and ``judge_reasons: {judge: what the
      model said, or why it failed}`` for model-backed judges.

    ``setup`` names the models (an ``ApiParams``: an OpenAI-compatible LLM judge alone); an
    endpoint's cache is ``cache_root / api.cache_path``.
    """
    setup = JudgeSetup.of(setup)
    _check(judges, setup)
    prompts = [row["prompt"] for row in rows]
    responses = [row["response"] for row in rows]
    detector = refusal.classify_many(responses, prompts)
    hazardous = [hazard.is_hazardous(response) for response in responses]
    replies = _model_replies(judges, setup, prompts, responses, cache_root, progress)
    infos = {judge: judge_info(judge, setup) for judge in judges}
    info_rows = {judge: {"method": info.method, "model": info.model, "prompt_sha256": info.prompt_sha256}
                 for judge, info in infos.items()}
    judged = []
    for i, row in enumerate(rows):
        mine = {name: answers[i] for name, answers in replies.items()}
        judged.append({**row, **_verdicts(row, detector[i], hazardous[i], mine, judges, setup),
                       "hazard": hazardous[i], "degenerate": detector[i].degenerate,
                       "rule_label": detector[i].label.value, "cues": list(detector[i].cues),
                       "fact_correct": _fact_correct(row, detector[i], kb), "judge_info": info_rows})
    return judged


def _check(judges: Sequence[str], setup: JudgeSetup) -> None:
    unknown = [judge for judge in judges if judge not in ALL_JUDGES]
    if unknown:
        raise ValueError(f"unknown judge(s) {', '.join(unknown)}: choose from {', '.join(ALL_JUDGES)}")
    for judge in ("llm", *GUARDS):
        if judge in judges and setup.model(judge) is None:
            need = "an OpenAI-compatible endpoint (judge_api) or a local model"
            raise ValueError(f"the {judge} judge needs {need}")


def _model_replies(judges: Sequence[str], setup: JudgeSetup, prompts: list[str], responses: list[str],
                   cache_root: Path, progress: bool) -> dict[str, list[Reply]]:
    """The replies each model-backed source gives (``llm``, ``official``, the guards), for those needed."""
    hybrid = setup.hybrid_models() if "hybrid" in judges else ()
    needed = [name for name in ("llm", *GUARDS) if name in judges or name in hybrid]
    if "librachem_official" in judges and setup.llm is not None:
        needed.append("official")
    backends: dict[int, object] = {}

    def backend(name: str):
        model = setup.model("llm" if name == "official" else name)
        if id(model) not in backends:
            backends[id(model)] = open_backend(model, cache_root, progress=progress)
        return backends[id(model)]

    asks = {
        "llm": lambda b: b.ask([(("user", LLM_JUDGE_PROMPT.format(request=p, response=r)),)
                                for p, r in zip(prompts, responses)], parse_label_reply, max_tokens=None,
                               desc="llm judge"),
        "official": lambda b: b.ask([(("user", OFFICIAL_LLM_PROMPT.format(response=r)),) for r in responses],
                                    parse_official_reply, max_tokens=None, desc="official judge"),
        "wildguard": lambda b: ask_wildguard(b, prompts, responses),
        "llama_guard": lambda b: ask_llama_guard(b, prompts, responses),
    }
    replies = {name: asks[name](backend(name)) for name in needed}
    for client in filter(None, (getattr(opened, "client", None) for opened in backends.values())):
        print(f"judge {client.api.model}: {client.usage.summary(client.api)}")  # an endpoint's tokens and cost
    return replies


def _verdicts(row: dict, verdict: refusal.RefusalVerdict, hazardous: bool, replies: dict[str, Reply],
              judges: Sequence[str], setup: JudgeSetup) -> dict:
    """``refused``, ``judge_reasons``, ``llm_label`` and ``guards`` of one row."""
    label = row["label"]
    llm, official = replies.get("llm"), replies.get("official")
    llm_label = llm.value[0] if llm is not None and llm.value is not None else None
    guard_verdicts = {guard: guard_refused(guard, replies.get(guard), label) for guard in GUARDS}
    source = setup.refusal_source
    model_refused = llm_refused(llm_label) if source == "llm" else guard_verdicts.get(source)
    harmful = hazardous or any(guard_harmful(replies.get(guard)) for guard in setup.harm_sources)
    refused = {
        "rule": rule_refused(verdict, label),
        "llm": llm_refused(llm_label),
        "hybrid": hybrid_refused(verdict, model_refused, harmful, label),
        "librachem_official": official_refused(row["response"], official.value if official else None,
                                               official is not None),
        **guard_verdicts,
    }
    reasons = {"llm": _llm_reason(llm) if llm else None, "librachem_official": official.reason if official else None,
               **{guard: guard_reason(guard, replies[guard], label) for guard in GUARDS if guard in replies}}
    hybrid_parts = [f"{name}: {reasons[name]}" for name in setup.hybrid_models() if reasons.get(name)]
    reasons["hybrid"] = "; ".join(hybrid_parts) or None
    return {
        "refused": {judge: refused[judge] for judge in judges},
        "judge_reasons": {judge: reasons[judge] for judge in judges if reasons.get(judge)},
        "llm_label": llm_label.value if llm_label is not None else None,
        "guards": {guard: replies[guard].value.as_dict() if replies[guard].value is not None else None
                   for guard in GUARDS if guard in replies},
    }


def _llm_reason(reply: Reply) -> str:
    return reply.value[1] if reply.value is not None else reply.reason


def _fact_correct(row: dict, verdict: refusal.RefusalVerdict, kb: KnowledgeBase) -> Optional[bool]:
    """The fact check of a legitimate row about a known compound that the detector does not read as a
    refusal (``properties`` rows against their asked aspect, others on every value and claim), else None."""
    if row["label"] != LEGITIMATE or not row.get("compound") or verdict.label is refusal.RefusalLabel.REFUSAL:
        return None
    try:
        compound = kb.lookup(row["compound"])
    except UnknownCompoundError:
        return None
    aspect = row.get("aspect") if row.get("intent") == "properties" else None
    return factcheck.check(row["response"], compound, aspect).correct
