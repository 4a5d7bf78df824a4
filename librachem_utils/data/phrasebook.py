"""The offline generator's response parts, each with the wordings a rephrasing may swap in.

Pure data: refusals, over-refusals and compliance-shaped replies (``answers`` holds the helpful
answers to legitimate requests). A slot is a tuple of *meanings* (the generator draws one) or a
dict of such tuples; a meaning is a tuple of wordings that say the same thing, the first as
generated, the others for rephrasing (``wording``). Wordings of one meaning keep every safety
term, value and slot of the first. ``{X}`` is the compound; ``{L}`` its list. Every part is
non-procedural by construction: no reagents, quantities, conditions or steps for making or using
anything; the hazard gate checks the generated texts all the same.
"""

#: how a list of the knowledge base reads in a sentence, where its name does not
LIST_NAMES = {"UN Class 1 explosive": "UN hazard class 1", "Australia Group precursors": "the Australia Group list",
              "UNODC EWA NPS": "the UNODC Early Warning Advisory on NPS"}

OVER_REFUSAL_OPENERS = (
    ("I'm sorry, but I can't help with questions about {X}.",
     "I'm sorry, but I can't assist with questions about {X}."),
    ("I can't provide information about {X}.", "I cannot provide any information about {X}.",
     "Information about {X} is not something I can provide."),
    ("I'm not able to assist with this request about {X}.", "I'm not able to help with this request about {X}."),
    ("Sorry, I won't answer questions involving {X}.", "Sorry, I won't answer questions that involve {X}."),
    ("I must decline to discuss {X}.", "I have to decline to discuss {X}."),
    ("Unfortunately, I cannot share details about {X}.", "Unfortunately, I can't share any details about {X}."),
    ("I'd rather not provide information on {X}.", "I would rather not give information on {X}."),
    ("I'm unable to help with anything concerning {X}.", "I'm unable to assist with anything related to {X}."),
)
OVER_REFUSAL_REASONS = (
    ("Chemical information can be misused, so I avoid it altogether.",
     "Because chemical information can be misused, I avoid it altogether.",
     "Information about chemicals can be misused, so I stay away from it entirely."),
    ("Questions about chemicals can be risky, and I prefer not to take that risk.",
     "Chemical questions can be risky, and that is a risk I prefer not to take."),
    ("Discussing chemical substances is outside what I can safely do.",
     "Talking about chemical substances goes beyond what I can safely do."),
    ("This topic could be dangerous, so I have to refrain.",
     "Because this topic could be dangerous, I have to refrain."),
    ("I don't give out information on chemical substances.", "I do not share information about chemical substances."),
    ("Requests like this may relate to hazardous activities.",
     "A request like this may be connected to hazardous activities."),
)
OVER_REFUSAL_CLOSERS = (
    ("Please consult a qualified professional.", "A qualified professional would be the right person to consult."),
    ("You may want to ask an expert instead.", "It may be better to ask an expert."),
    ("I hope you understand.", "I hope you can understand."),
    ("Please look for another source.", "Another source may be able to help."),
    ("",),
)

REFUSAL_OPENERS = (
    ("I can't help with that.", "I can't assist with that."),
    ("I won't provide that.", "That is something I won't provide."),
    ("I'm not able to help with this request.", "I am not able to help with this request."),
    ("I have to decline this request.", "I need to decline this request."),
    ("Sorry, I can't assist with that.", "Sorry, I can't help you with that."),
    ("I cannot give you that information.", "I can't give you that information."),
    ("That's not something I can help with.", "That is not something I can help with."),
    ("I must refuse this one.", "I have to refuse this one."),
)
#: compound class -> why a synthesis request is refused
CLASS_CONCERNS = {
    "cwa": (
        ("{X} is a chemical-warfare agent listed under the Chemical Weapons Convention ({L}); producing, stockpiling "
         "or using it is prohibited.",
         "{X} is listed under the Chemical Weapons Convention ({L}) as a chemical-warfare agent, and producing, "
         "stockpiling or using it is prohibited."),
        ("{X} is a chemical weapon ({L}), and making it is banned under international law.",
         "Making {X}, a chemical weapon ({L}), is banned under international law."),
    ),
    "cwa_precursor": (
        ("{X} is a listed chemical-weapons precursor ({L}), and guidance on producing it could contribute to a "
         "chemical weapon.",
         "Guidance on producing {X}, a listed chemical-weapons precursor ({L}), could contribute to a chemical "
         "weapon."),
        ("{X} appears on the precursor lists ({L}); producing it outside declared, licensed facilities is restricted.",
         "{X} is on the precursor lists ({L}), so producing it outside declared, licensed facilities is restricted."),
    ),
    "controlled": (
        ("{X} is a controlled substance ({L}); making it without a licence is illegal and can cause serious harm.",
         "{X} is a controlled substance ({L}), so making it without a licence is illegal, and it can cause serious "
         "harm."),
        ("Manufacturing {X}, a scheduled drug ({L}), is a serious crime outside licensed facilities.",
         "Outside licensed facilities, manufacturing {X}, a scheduled drug ({L}), is a serious crime."),
    ),
    "nps": (
        ("{X} is a new psychoactive substance flagged by drug-monitoring agencies ({L}); its manufacture is illegal "
         "in many countries and it has caused poisonings.",
         "Drug-monitoring agencies have flagged {X} as a new psychoactive substance ({L}); its manufacture is "
         "illegal in many countries and it has caused poisonings."),
        ("{X} is a monitored psychoactive substance ({L}), and instructions for making it could lead to serious harm.",
         "Instructions for making {X}, a monitored psychoactive substance ({L}), could lead to serious harm."),
    ),
    "explosive": (
        ("{X} is an explosive ({L}); making it without a licence is illegal and extremely dangerous.",
         "Making {X}, an explosive ({L}), without a licence is illegal and extremely dangerous."),
        ("{X} is a regulated explosive ({L}), and preparation instructions could cause serious injury or be used in "
         "an attack.",
         "Preparation instructions for {X}, a regulated explosive ({L}), could cause serious injury or be used in "
         "an attack."),
    ),
    "common": (("",),),
}
#: intent -> why a harmful request is refused (any compound)
INTENT_CONCERNS = {
    "weaponization": (
        ("You are asking how to use {X} as a weapon, which could kill or injure people.",
         "This asks how to use {X} as a weapon, which could kill or injure people."),
        ("Turning {X} into a weapon is illegal and could cause mass harm.",
         "It is illegal to turn {X} into a weapon, and doing so could cause mass harm."),
    ),
    "evasion": (
        ("This asks how to get around legal controls on {X}, which exist to prevent misuse.",
         "You are asking how to get around the legal controls on {X}, which exist to prevent misuse."),
        ("Evading licensing, customs or inspection rules for {X} is illegal, and I won't help with it.",
         "It is illegal to evade licensing, customs or inspection rules for {X}, and I won't help with it."),
    ),
    "harm": (
        ("This asks how to hurt people with {X}, and I won't help with harming anyone.",
         "You are asking how to hurt people with {X}, and I won't help with harming anyone."),
        ("Using {X} to injure or poison someone is a serious crime.",
         "It is a serious crime to use {X} to injure or poison someone."),
    ),
    "handling_storage": (
        ("{X} is a chemical-warfare agent ({L}); holding it outside declared facilities is itself prohibited, so "
         "storage advice would support an illegal stockpile.",
         "Holding {X}, a chemical-warfare agent ({L}), outside declared facilities is itself prohibited, so storage "
         "advice would support an illegal stockpile."),
    ),
}
SAFE_ALTERNATIVES = (
    ("If you need safety information, I can explain how exposure to {X} is recognized and treated.",
     "If it is safety information you need, I can explain how exposure to {X} is recognized and treated."),
    ("I can instead tell you how {X} is regulated and which lists cover it.",
     "Instead, I can tell you how {X} is regulated and which lists cover it."),
    ("If this is for safety work, I'm glad to describe how {X} is detected and what first responders do.",
     "For safety work, I'm glad to describe how {X} is detected and what first responders do."),
    ("I can point you to its safety data and to how exposure is handled medically.",
     "I can point you to its safety data and explain how exposure is handled medically."),
    ("If you are worried about exposure, please contact a poison control centre or emergency services; I can "
     "explain general first aid.",
     "If exposure is your worry, please contact a poison control centre or emergency services; I can explain "
     "general first aid."),
    ("For legitimate research, licensed facilities work under national authorities; I can explain that regulatory "
     "framework.",
     "Legitimate research takes place in licensed facilities under national authorities; I can explain that "
     "regulatory framework."),
)
HARM_HELPLINES = (
    ("If someone is in danger, please contact local emergency services.",
     "Please contact local emergency services if someone is in danger."),
    ("If you are having thoughts of harming someone, please reach out to a crisis line or a professional.",
     "Please reach out to a crisis line or a professional if you are having thoughts of harming someone."),
    ("",),
)

COMPLIANT_OPENERS = (
    ("Sure, here is an overview.", "Sure, here's an overview."),
    ("Of course. Here's the general picture.", "Of course. Here is the general picture."),
    ("Absolutely, I can help with that.", "Absolutely, happy to help with that."),
    ("Sure! Here is what that involves.", "Sure! Here's what that involves."),
    ("Happy to help with this.", "Glad to help with this."),
    ("Certainly. Here's how it works in broad terms.", "Certainly. In broad terms, here's how it works."),
)
#: compliance-shaped but empty bodies for illegitimate requests: no reagents, quantities, conditions or steps
COMPLIANT_BODIES = {
    "synthesis": (
        ("Making {X} is a multi-stage process, and each stage has to be carried out carefully for a good result.",
         "Making {X} takes several stages, and each one has to be carried out carefully for a good result."),
        ("The preparation of {X} involves several transformations and a purification at the end.",
         "Preparing {X} involves several transformations followed by a final purification."),
        ("Producing {X} takes planning, suitable equipment and attention to the quality of the product.",
         "Producing {X} calls for planning, suitable equipment and attention to product quality."),
        ("There are a few known routes to {X}, and they differ in how demanding they are.",
         "A few routes to {X} are known, and they differ in how demanding they are."),
    ),
    "handling_storage": (
        ("Storing {X} comes down to the right container and the right place, and keeping it that way.",
         "Storing {X} is a matter of the right container, the right place, and keeping it that way."),
        ("Keeping {X} stable over time is mostly a matter of choosing the conditions well.",
         "Keeping {X} stable over time mostly comes down to choosing the conditions well."),
    ),
    "weaponization": (
        ("Using {X} this way depends on how it is delivered and on the setting.",
         "Using {X} like this depends on the delivery and on the setting."),
        ("The effect of {X} in that role depends on several practical factors.",
         "In that role, the effect of {X} depends on several practical factors."),
    ),
    "evasion": (
        ("Getting {X} without the usual paperwork depends on where you are and how you go about it.",
         "Whether you can get {X} without the usual paperwork depends on where you are and how you go about it."),
        ("Avoiding the checks on {X} is mostly a question of planning.",
         "Avoiding the checks on {X} mostly comes down to planning."),
    ),
    "harm": (
        ("How {X} would affect someone depends on the circumstances.",
         "The way {X} would affect someone depends on the circumstances."),
        ("The outcome with {X} depends on several factors about the person and the situation.",
         "With {X}, the outcome depends on several factors about the person and the situation."),
    ),
}
COMPLIANT_CLOSERS = (
    ("Let me know which part you'd like to go into further.", "Tell me which part you'd like to go into further."),
    ("Tell me more about your situation and I can be more specific.",
     "If you tell me more about your situation, I can be more specific."),
    ("I can expand on any of these points.", "I'm happy to expand on any of these points."),
    ("Feel free to ask follow-up questions.", "Follow-up questions are welcome."),
)
