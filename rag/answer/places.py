"""Names that are places or organisations, never people: the world's countries, the US states (and the
abbreviations wire copy writes them in, "Calif."), and the words that end an organisation's name
("Kansas City Southern Industries Inc", "Communist Party"). A "who" question answered with "Japan"
or "Santa Fe Southern Pacific Co" is answered with no person at all (rag.answer.candidates).
"""

from __future__ import annotations

import re

# Countries, continents and regions, US states and wire copy's abbreviations of them. Left out: countries
# that are also common personal names a story shortens a person to ("Jordan"
# for Eddie Jordan, "Chad", "Georgia", "Israel").
_PLACES = """
    Afghanistan, Albania, Algeria, Andorra, Angola, Argentina, Armenia, Australia, Austria, Azerbaijan,
    Bahamas, Bahrain, Bangladesh, Barbados, Belarus, Belgium, Belize, Benin, Bhutan, Bolivia, Bosnia,
    Botswana, Brazil, Brunei, Bulgaria, Burkina Faso, Burma, Burundi, Cambodia, Cameroon, Canada,
    Chile, China, Colombia, Congo, Costa Rica, Croatia, Cuba, Cyprus, Czech Republic, Czechoslovakia,
    Denmark, Djibouti, Dominican Republic, Ecuador, Egypt, El Salvador, England, Eritrea, Estonia,
    Ethiopia, Fiji, Finland, France, Gabon, Gambia, Germany, West Germany, East Germany, Ghana,
    Great Britain, Britain, Greece, Grenada, Guatemala, Guinea, Guyana, Haiti, Honduras, Hong Kong,
    Hungary, Iceland, India, Indonesia, Iran, Iraq, Ireland, Italy, Ivory Coast, Jamaica, Japan,
    Kazakhstan, Kenya, Kosovo, Kuwait, Kyrgyzstan, Laos, Latvia, Lebanon, Lesotho, Liberia, Libya,
    Liechtenstein, Lithuania, Luxembourg, Macedonia, Madagascar, Malawi, Malaysia, Maldives, Mali,
    Malta, Mauritania, Mauritius, Mexico, Moldova, Monaco, Mongolia, Montenegro, Morocco, Mozambique,
    Myanmar, Namibia, Nepal, Netherlands, Holland, New Zealand, Nicaragua, Niger, Nigeria, North Korea,
    Northern Ireland, Norway, Oman, Pakistan, Palestine, Panama, Papua New Guinea, Paraguay, Peru,
    Philippines, Poland, Portugal, Qatar, Romania, Russia, Rwanda, Saudi Arabia, Scotland, Senegal,
    Serbia, Sierra Leone, Singapore, Slovakia, Slovenia, Somalia, South Africa, South Korea, Korea,
    Soviet Union, Spain, Sri Lanka, Sudan, Suriname, Swaziland, Sweden, Switzerland, Syria, Taiwan,
    Tajikistan, Tanzania, Thailand, Tibet, Togo, Trinidad, Tunisia, Turkey, Turkmenistan, Uganda,
    Ukraine, United Arab Emirates, United Kingdom, United States, America, Uruguay, Uzbekistan,
    Venezuela, Vietnam, Wales, Yemen, Yugoslavia, Zaire, Zambia, Zimbabwe, UK, US, USA, USSR, UAE, EU,
    Europe, Africa, Asia, Latin America, South America, North America, Middle East, Scandinavia,
    Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida, Hawaii,
    Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland, Massachusetts,
    Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska, Nevada, New Hampshire, New Jersey,
    New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma, Oregon, Pennsylvania,
    Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont, Virginia,
    West Virginia, Wisconsin, Wyoming, Calif, Conn, Fla, Ill, Mass, Mich, Minn, Okla, Tenn,
    Tex, Wis, Ariz, Colo, N.Y, N.J, N.C, S.C, D.C
    """
PLACE_NAMES = frozenset(s.lower() for s in re.split(r",\s*", _PLACES.strip()))

# the word that ends an organisation's name, a party's, an institution's or a publication's
_ORGANISATION_END = re.compile(
    r"\b(?:Inc|Incorporated|Corp|Corporation|Co|Cos|Ltd|Limited|Plc|PLC|plc|LLC|AG|SA|NV|BV|GmbH|SpA|"
    r"Group|Holdings?|Industries|Enterprises|Party|Bank|Bancorp|Exchange|Government|Agency|Commission|"
    r"Council|Association|Union|Railway|Railroad|Department|Ministry|University|College|Institute|"
    r"Foundation|Board|Committee|Authority|Federation|League|Airlines?|Airways|Motors|Systems|"
    r"Technologies|Services|Partners|Securities|Fund|Reserve|Office|Police|Army|Parliament|Assembly|"
    r"Congress|Senate|Commons|Lords|Treasury|Magazine|Newspapers?|Television|Records|Studios|"
    r"Pictures|Communications|Networks?|Petroleum|Oil|Steel)\.?$")


def is_place(name: str) -> bool:
    """Whether a capitalised run is one of `PLACE_NAMES` ("Calif." as "Calif").

    >>> [is_place(n) for n in ("UK", "Ill.", "Illinois", "Phytopharm")]
    [True, True, True, False]
    """
    return name.strip(" .").lower() in PLACE_NAMES


def place_or_organisation(name: str) -> bool:
    """Whether a capitalised run names a country, a US state or an organisation, not a person.

    >>> [place_or_organisation(n) for n in ("Japan", "Calif.", "Communist Party", "Varity Corp")]
    [True, True, True, True]
    >>> [place_or_organisation(n) for n in ("Jamie Foxx", "Landon Rowland", "Tony Banks", "Prince of Wales")]
    [False, False, False, False]
    >>> place_or_organisation("Santa Fe Southern Pacific Co of Calif")
    True
    """
    # "Santa Fe Southern Pacific Co of Calif.": the company ends before its home state
    return is_place(name) or any(
        _ORGANISATION_END.search(part) for part in re.split(r"\s+of\s+(?:the\s+)?", name))
