"""The frames and wrappers of the offline request grammar: pure data, set around ``clauses``.

A frame turns one form of a request into a sentence: ``{q}`` takes a direct question, ``{wh}``
an embedded clause, ``{how}`` an embedded clause that starts with "how", ``{np}`` a noun phrase,
``{vp}`` a bare verb phrase. Frames are lowercase-initial; the grammar capitalizes sentence starts.
"(a|b)" offers alternatives. Tags: ``3`` third person, ``:`` a lead-in with a colon, ``n`` a noun
phrase with "please", ``t`` terse.

Wrappers go around the framed request: an opener (a sentence, or a lead-in ending in ", "), a
context (a lead-in ending in ", ", only before an untagged frame, or a sentence), a closer.
"""

#: (tags, frame)
FRAMES: tuple[tuple[str, str], ...] = (
    ("", "{q}?"),
    (":", "quick question: {q}?"),
    (":", "I have a question: {q}?"),
    (":", "one thing I'd like to know: {q}?"),
    ("", "(could|can) you tell me {wh}?"),
    ("", "could you please tell me {wh}?"),
    ("", "do you know {wh}?"),
    ("", "I'd like to know {wh}."),
    ("", "I (want|need) to know {wh}."),
    ("", "I'm trying to (find out|figure out|work out) {wh}."),
    ("", "I was wondering {wh}."),
    ("", "any idea {wh}?"),
    ("", "(please |)tell me {wh}."),
    ("", "would you mind telling me {wh}?"),
    ("", "(can|could) you explain {how}?"),
    ("", "(please |)explain {how}."),
    ("", "I'd like to understand {how}."),
    ("", "would you mind explaining {how}?"),
    ("3", "my (colleague|supervisor|lab partner) wants to know {wh}."),
    ("3", "a friend asked me {wh}, and I wasn't sure what to say."),
    ("3", "my (manager|supervisor) asked me to find out {wh}."),
    ("3", "a student asked me {wh}. What can I tell them?"),
    ("", "I (need|would like) {np}."),
    ("", "I'm looking for {np}."),
    ("", "(can|could) you give me {np}?"),
    ("", "could you share {np}?"),
    ("", "please give me {np}."),
    ("n", "{np}, please."),
    ("", "I'd be grateful for {np}."),
    ("t", "{np}?"),
    ("3", "my (colleague|supervisor) needs {np}."),
    ("3", "my (manager|supervisor) asked me for {np}."),
    ("", "{vp}."),
    ("", "please {vp}."),
    ("", "{vp}, please."),
    ("", "(can|could|would) you {vp}?"),
    ("", "could you please {vp}?"),
    ("", "I'd like you to {vp}."),
    ("", "I need you to {vp}."),
    ("", "I'd be grateful if you could {vp}."),
)

OPENERS: tuple[str, ...] = (
    "hi!", "hello.", "hi there.", "good morning.", "hello, I hope you can help.", "sorry to bother you.",
    "hi, ", "hello, ", "hey, ",
)
CONTEXTS: tuple[str, ...] = (
    "for a safety briefing, ", "for my thesis, ", "for a lab safety course I'm preparing, ",
    "for a report I'm writing, ", "as part of a risk assessment, ", "for a training session, ",
    "I'm a chemistry student.", "I work in a university lab.", "I'm preparing a safety briefing for new lab staff.",
    "I'm writing a risk assessment.", "I'm new to working with chemicals.",
    "I've been reading about {X} for a project.", "I teach a lab safety course.",
)
CLOSERS: tuple[str, ...] = (
    "thanks!", "thank you.", "thanks in advance.", "any help is appreciated.", "I'd appreciate a clear answer.",
    "please be specific.", "a short answer is fine.", "please keep it brief.", "it's for a safety briefing.",
    "this is for my thesis.", "I couldn't find a clear answer elsewhere.",
)
#: chance that a rephrased request gets each kind of wrapper
WRAPPER_CHANCE = {"opener": 0.3, "context": 0.35, "closer": 0.3}
