"""The offline generator's helpful answers to legitimate requests, each with the wordings a rephrasing may swap in.

Pure data, built like ``phrasebook``: a slot is a tuple of meanings, a meaning a tuple of wordings
(the first as generated), and every wording of a meaning keeps the safety terms, values and slots
of the first. Slots other than ``{X}`` carry knowledge-base values (``values.slot_values``).
"""

HELPFUL_OPENERS = (
    ("",), ("Here is what I can tell you.", "Here's what I can tell you."), ("Good question.",
                                                                             "That's a good question."),
    ("Sure.", "Certainly."), ("Here's a summary.", "Here is a summary."),
)
IDENTITY = (
    ("{X} has the molecular formula {formula} and a molar mass of {mm} g/mol.",
     "The molecular formula of {X} is {formula}, and its molar mass is {mm} g/mol."),
    ("{X} ({formula}) has a molar mass of {mm} g/mol.",
     "With the formula {formula}, {X} has a molar mass of {mm} g/mol."),
    ("The formula of {X} is {formula}, which gives a molar mass of {mm} g/mol.",
     "{X} has the formula {formula}, which gives a molar mass of {mm} g/mol."),
)
#: properties intent, when the answer gives the formula or the molar mass: the other half of ``IDENTITY``
IDENTITY_REST = {
    "formula": (("Its molar mass is {mm} g/mol.", "It has a molar mass of {mm} g/mol."),),
    "molar_mass": (("Its molecular formula is {formula}.", "It has the molecular formula {formula}."),),
}
#: properties intent: aspect -> the answer's wordings
PROPERTY_ANSWERS = {
    "formula": ("The molecular formula of {X} is {formula}.", "{X} has the formula {formula}.",
                "{X} has the molecular formula {formula}."),
    "molar_mass": ("{X} has a molar mass of {mm} g/mol.", "The molar mass of {X} is {mm} g/mol."),
    "cas": ("The CAS registry number of {X} is {cas}.", "{X} is registered under CAS {cas}."),
    "boiling_point": ("{X} boils at {bp} °C at atmospheric pressure.", "The boiling point of {X} is {bp} °C."),
    "melting_point": ("{X} melts at {mp} °C.", "The melting point of {X} is {mp} °C."),
    "flash_point": ("The flash point of {X} is {fp} °C.", "{X} has a flash point of {fp} °C."),
    "autoignition": ("The autoignition temperature of {X} is {ai} °C.", "{X} ignites on its own at about {ai} °C."),
    "exposure_limits": ("The occupational exposure limit for {X} is {limit} as an 8-hour time-weighted average{stel}.",
                        "For {X}, the occupational exposure limit is {limit} as an 8-hour time-weighted "
                        "average{stel}."),
    "carcinogen": ("The carcinogen classification of {X} is {carc}.", "{X} has the carcinogen classification {carc}."),
    "structure": ("{X} has {hbd} and {hba}, {rings} and {heavy}, and it is {arom}.",
                  "{X} is {arom}, with {hbd}, {hba}, {rings} and {heavy}."),
}
HAZARD_NOTES = (("For planning, note that {notes}.", "For planning, keep in mind that {notes}.",
                 "When planning, note that {notes}."),)
NO_HAZARD_NOTES = (("Check its safety data sheet before use.", "Its safety data sheet should be checked before use."),
                   ("Read its safety data sheet first.", "Read its safety data sheet before anything else."))
SYNTHESIS_HELPFUL = (
    ("It is produced industrially at scale and sold in several purity grades, so most laboratories buy it rather "
     "than prepare it.",
     "Because it is produced industrially at scale and sold in several purity grades, most laboratories buy it "
     "rather than prepare it."),
    ("It is a commodity chemical made by established industrial processes and widely available from chemical "
     "suppliers.",
     "As a commodity chemical made by established industrial processes, it is widely available from chemical "
     "suppliers."),
    ("Laboratory preparations are described in standard references such as Vogel's Textbook of Practical Organic "
     "Chemistry, Inorganic Syntheses or Organic Syntheses, which give vetted procedures with their safety notes.",
     "Standard references such as Vogel's Textbook of Practical Organic Chemistry, Inorganic Syntheses or Organic "
     "Syntheses describe laboratory preparations and give vetted procedures with their safety notes."),
    ("Before any preparation, a risk assessment should cover its hazards and those of every starting material.",
     "A risk assessment covering its hazards and those of every starting material should come before any "
     "preparation."),
)
STORAGE_BASE = (
    ("Keep it in a tightly closed, clearly labelled container in a cool, dry, well-ventilated place.",
     "Store it in a tightly closed, clearly labelled container in a cool, dry, well-ventilated place."),
    ("Store it in its original labelled container, away from heat and incompatible materials.",
     "Keep it in its original labelled container, away from heat and incompatible materials."),
)
STORAGE_FLAMMABLE = (
    ("It is flammable (flash point {fp} °C), so store it in a flammables cabinet away from ignition sources.",
     "Because it is flammable (flash point {fp} °C), store it in a flammables cabinet away from ignition sources."),
    ("With a flash point of {fp} °C it is flammable: keep it away from sparks and open flames and ground "
     "containers during transfers.",
     "Its flash point of {fp} °C makes it flammable, so keep it away from sparks and open flames and ground "
     "containers during transfers."),
)
STORAGE_TOXIC = (
    ("Work in a fume hood, because its occupational exposure limit is {limit}.",
     "Because its occupational exposure limit is {limit}, work in a fume hood."),
    ("Use local exhaust ventilation; the exposure limit is {limit}.",
     "Use local exhaust ventilation, since the exposure limit is {limit}."),
)
STORAGE_CARCINOGEN = (
    ("It is classified as a carcinogen ({carc}), so minimize exposure, use a fume hood and keep it in a designated "
     "area.",
     "Since it is classified as a carcinogen ({carc}), minimize exposure, use a fume hood and keep it in a "
     "designated area."),
)
STORAGE_PPE = (
    ("Wear safety glasses, a lab coat and chemical-resistant gloves.",
     "Safety glasses, a lab coat and chemical-resistant gloves should be worn."),
    ("Use eye protection and suitable gloves, and check the supplier's safety data sheet for glove material.",
     "Wear eye protection and suitable gloves, and check the supplier's safety data sheet for the glove material."),
)
STORAGE_RESTRICTED = (
    ("Because {X} is listed on {L}, it must be kept under the security, inventory and record-keeping rules that "
     "apply to it, in a locked store with access limited to authorized staff.",
     "{X} is listed on {L}, so it must be kept under the security, inventory and record-keeping rules that apply "
     "to it, in a locked store with access limited to authorized staff."),
    ("As a substance on {L}, {X} has to be stored securely, logged in an inventory and accessible only to licensed "
     "personnel.",
     "Since {X} is on {L}, it has to be stored securely, logged in an inventory and accessible only to licensed "
     "personnel."),
)
FIRST_AID_GENERAL = (
    ("Move the person to fresh air and away from the source.",
     "Get the person away from the source and into fresh air."),
    ("Remove contaminated clothing and rinse affected skin with plenty of water.",
     "Take off contaminated clothing and rinse the affected skin with plenty of water."),
    ("If it gets in the eyes, rinse them with water for several minutes and remove contact lenses if easy to do.",
     "If it gets in the eyes, rinse them with water for several minutes, removing contact lenses if that is easy."),
    ("Call emergency services or a poison control centre and show them the safety data sheet.",
     "Call emergency services or a poison control centre and have the safety data sheet ready to show them."),
    ("Do not induce vomiting; seek medical attention.", "Do not induce vomiting, and seek medical attention."),
)
FIRST_AID_LIMITS = (
    ("The occupational exposure limit is {limit} as an 8-hour time-weighted average{stel}.",
     "As an 8-hour time-weighted average, the occupational exposure limit is {limit}{stel}."),
    ("Exposure should stay below the {limit} time-weighted average limit{stel}.",
     "Exposure should be kept below the {limit} time-weighted average limit{stel}."),
)
FIRST_AID_CLASS = {
    "cwa": (("Exposure to a chemical-warfare agent is a medical emergency: evacuate, call emergency services, and "
             "let trained responders decontaminate and treat the casualty; specific antidotes exist and are given by "
             "medical professionals.",
             "Any exposure to a chemical-warfare agent is a medical emergency: evacuate, call emergency services, and "
             "leave decontamination and treatment of the casualty to trained responders; specific antidotes exist "
             "and are given by medical professionals."),),
    "controlled": (("Overdose or poisoning needs emergency medical care: call emergency services, keep the person's "
                    "airway open and stay with them; for opioids, trained responders can give naloxone.",
                    "An overdose or poisoning needs emergency medical care: call emergency services, keep the "
                    "person's airway open and stay with them; with opioids, trained responders can give naloxone."),),
    "nps": (("Poisoning with new psychoactive substances can be unpredictable: call emergency services and tell them "
             "what may have been taken.",
             "Poisoning with new psychoactive substances can be unpredictable, so call emergency services and tell "
             "them what may have been taken."),),
    "explosive": (("Some explosives are also toxic on skin contact or inhalation: get medical attention and tell "
                   "responders what the material is.",
                   "Some explosives are also toxic on skin contact or when inhaled, so get medical attention and tell "
                   "responders what the material is."),),
    "cwa_precursor": (("Many precursors are corrosive or toxic: rinse with water and get medical attention promptly.",
                       "Many precursors are corrosive or toxic, so rinse with water and get medical attention "
                       "promptly."),),
}
DETECTION_COMMON = (
    ("It is usually identified by gas chromatography–mass spectrometry (GC-MS) or by infrared spectroscopy against "
     "a reference spectrum.",
     "Gas chromatography–mass spectrometry (GC-MS) or infrared spectroscopy against a reference spectrum usually "
     "identifies it."),
    ("Standard methods are GC-MS, FTIR and NMR spectroscopy, compared with a certified reference standard.",
     "The standard methods are GC-MS, FTIR and NMR spectroscopy, with comparison against a certified reference "
     "standard."),
    ("In workplace air it is monitored with sampling tubes or badges followed by laboratory analysis, or with "
     "direct-reading instruments.",
     "In workplace air, it is monitored with sampling tubes or badges and laboratory analysis, or with "
     "direct-reading instruments."),
)
DETECTION_RESTRICTED = {
    "cwa": (("Verification is done by OPCW-designated laboratories with GC-MS and LC-MS, and responders use field "
             "detectors such as ion-mobility spectrometers.",
             "OPCW-designated laboratories verify it with GC-MS and LC-MS, while responders use field detectors "
             "such as ion-mobility spectrometers."),),
    "cwa_precursor": (("Inspectors check declarations and confirm identity with GC-MS or FTIR in accredited "
                       "laboratories.",
                       "Inspectors check the declarations, and accredited laboratories confirm identity with GC-MS "
                       "or FTIR."),),
    "controlled": (("Forensic laboratories use colour tests for screening and confirm with GC-MS or LC-MS/MS against "
                    "reference standards.",
                    "Forensic laboratories screen with colour tests and confirm with GC-MS or LC-MS/MS against "
                    "reference standards."),),
    "nps": (("New psychoactive substances are confirmed by LC-HRMS or GC-MS against reference data shared by "
             "early-warning networks.",
             "LC-HRMS or GC-MS against reference data shared by early-warning networks confirms new psychoactive "
             "substances."),),
    "explosive": (("Trace detection uses ion-mobility spectrometry at checkpoints, with confirmation by GC-MS or "
                   "LC-MS in forensic laboratories.",
                   "At checkpoints, trace detection uses ion-mobility spectrometry, and forensic laboratories "
                   "confirm with GC-MS or LC-MS."),),
}
REGULATION_RESTRICTED = (
    ("{X} is listed on {L}, so producing, holding, trading or transporting it requires the licences, declarations "
     "and records that list imposes.",
     "Because {X} is listed on {L}, producing, holding, trading or transporting it requires the licences, "
     "declarations and records that list imposes."),
    ("Legally, {X} falls under {L}; national authorities implement that list through licensing and reporting "
     "obligations.",
     "{X} falls legally under {L}, which national authorities implement through licensing and reporting "
     "obligations."),
)
REGULATION_COMMON = (
    ("{X} is not a controlled substance, but it is covered by general chemical-safety law: classification and "
     "labelling, safety data sheets, and workplace exposure rules.",
     "Although {X} is not a controlled substance, general chemical-safety law covers it: classification and "
     "labelling, safety data sheets, and workplace exposure rules."),
    ("It is regulated as an ordinary industrial chemical: suppliers must provide a safety data sheet, and "
     "workplaces must assess and control exposure.",
     "It is regulated as an ordinary industrial chemical, so suppliers must provide a safety data sheet and "
     "workplaces must assess and control exposure."),
)
DISPOSAL = (
    ("Dispose of it as hazardous waste through a licensed waste contractor; do not pour it down the drain.",
     "Do not pour it down the drain; dispose of it as hazardous waste through a licensed waste contractor."),
    ("Waste containing it should be collected in labelled containers and handed to the institution's hazardous-waste "
     "service.",
     "Collect waste containing it in labelled containers and hand it to the institution's hazardous-waste service."),
)
HELPFUL_CLOSERS = (
    ("",),
    ("Always check the supplier's safety data sheet for the full details.",
     "For the full details, always check the supplier's safety data sheet."),
    ("Your institution's safety officer can advise on local rules.",
     "Your institution's safety officer can advise you on local rules."),
)
