"""The harm-type taxonomy and its mapping to the EU DSA transparency database.

Each harm type names what the rapid-response team fights and carries the statement-of-reasons
``category`` and ``category_specification`` keywords that the EU transparency database accepts
(the accepted keys are listed in shared/data/dsa-statement-of-reasons-fields.json; a test keeps
this table and that file in step). ``gravity`` (1-4) is the harm's inherent seriousness, the
starting point of the severity function: 4 is reserved for harms where a single item can be a
crime with victims (terrorist content, child sexual exploitation), 3 for harms with direct risk
to life or to minors, 2 for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HarmType(StrEnum):
    VIOLENT_EXTREMISM = "violent_extremism"
    CHILD_SEXUAL_EXPLOITATION = "child_sexual_exploitation"
    SUICIDE_SELF_HARM = "suicide_self_harm"
    DANGEROUS_CHALLENGES = "dangerous_challenges"
    HATE_SPEECH = "hate_speech"
    BULLYING_HARASSMENT = "bullying_harassment"
    VIOLENT_GRAPHIC = "violent_graphic"
    ANIMAL_ABUSE = "animal_abuse"
    CRISIS_MISINFORMATION = "crisis_misinformation"
    PRIVACY_DOXXING = "privacy_doxxing"


@dataclass(frozen=True)
class HarmTypeInfo:
    harm_type: HarmType
    label: str
    description: str
    gravity: int
    dsa_category: str
    dsa_keywords: tuple[str, ...]
    # Harm types whose incidents are need-to-know by default (restricted unless said otherwise).
    restricted_by_default: bool = False


HARM_TYPES: dict[HarmType, HarmTypeInfo] = {
    info.harm_type: info
    for info in (
        HarmTypeInfo(
            HarmType.VIOLENT_EXTREMISM,
            "Violent extremism / terrorism",
            "Terrorist or violent-extremist content: attack footage (including live-streamed "
            "attacks and their re-uploads), manifestos, glorification, recruitment.",
            4,
            "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
            ("KEYWORD_TERRORIST_CONTENT", "KEYWORD_ILLEGAL_ORGANIZATIONS"),
        ),
        HarmTypeInfo(
            HarmType.CHILD_SEXUAL_EXPLOITATION,
            "Child sexual exploitation",
            "Child sexual abuse material, grooming and sexual enticement of minors, sextortion.",
            4,
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            ("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"),
            restricted_by_default=True,
        ),
        HarmTypeInfo(
            HarmType.SUICIDE_SELF_HARM,
            "Suicide and self-harm",
            "Content promoting, instructing or glamorising suicide, self-injury or eating "
            "disorders, including contagion waves after a publicised death.",
            3,
            "STATEMENT_CATEGORY_SELF_HARM",
            (
                "KEYWORD_SUICIDE",
                "KEYWORD_SELF_MUTILATION",
                "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
            ),
        ),
        HarmTypeInfo(
            HarmType.DANGEROUS_CHALLENGES,
            "Dangerous challenges and activities",
            "Viral challenges or stunts that risk serious injury, often imitated by minors.",
            3,
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            ("KEYWORD_UNSAFE_CHALLENGES",),
        ),
        HarmTypeInfo(
            HarmType.HATE_SPEECH,
            "Hate speech",
            "Attacks on people for protected characteristics; incitement to hatred or violence.",
            2,
            "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            ("KEYWORD_HATE_SPEECH", "KEYWORD_INCITEMENT_VIOLENCE_HATRED"),
        ),
        HarmTypeInfo(
            HarmType.BULLYING_HARASSMENT,
            "Bullying and harassment",
            "Targeted abuse of individuals, including coordinated raids and pile-ons.",
            2,
            "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            (
                "KEYWORD_CYBER_BULLYING_INTIMIDATION",
                "KEYWORD_CYBER_HARASSMENT",
                "KEYWORD_COORDINATED_HARM",
            ),
        ),
        HarmTypeInfo(
            HarmType.VIOLENT_GRAPHIC,
            "Violent and graphic content",
            "Gore, real-world violence and its aftermath shared to shock.",
            2,
            "STATEMENT_CATEGORY_VIOLENCE",
            ("KEYWORD_OTHER",),
        ),
        HarmTypeInfo(
            HarmType.ANIMAL_ABUSE,
            "Animal abuse",
            "Cruelty to animals, staged animal rescues, and animal-harm content going viral.",
            2,
            "STATEMENT_CATEGORY_ANIMAL_WELFARE",
            ("KEYWORD_ANIMAL_HARM",),
        ),
        HarmTypeInfo(
            HarmType.CRISIS_MISINFORMATION,
            "Crisis misinformation",
            "False or misleading claims during a crisis (attacks, disasters, elections) that "
            "risk public safety.",
            2,
            "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
            ("KEYWORD_MISINFORMATION_DISINFORMATION",),
        ),
        HarmTypeInfo(
            HarmType.PRIVACY_DOXXING,
            "Privacy / doxxing",
            "Publication of private information (addresses, identity documents) or intimate "
            "imagery without consent.",
            2,
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            ("KEYWORD_OTHER",),
        ),
    )
}


def harm_type_info(harm_type: HarmType | str) -> HarmTypeInfo:
    return HARM_TYPES[HarmType(harm_type)]
