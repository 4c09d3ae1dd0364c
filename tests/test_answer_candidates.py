"""Answer candidates: the spans of a sentence that could answer a question, by the question's type.

Each case is a sentence from the BBC set that the extractive answerer once put forward as the short
answer to the wrong kind of question; the candidate rules are what keep such spans out."""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_answer_helpers import passages_of

from rag.answer.answerhood import FEATURES, Corpus, _forecast, features
from rag.answer.candidates import answer_span, candidates
from rag.answer.kinds import counted_noun, unit_near
from rag.answer.names import name_share, named_anywhere
from rag.answer.question import analyse, known_words
from rag.answer.support import content_terms, passage_sentences
from rag.types import Article, Hit


def spans(sentence: str, question: str) -> list[str]:
    frame = analyse(question)
    known = tuple(frame.names) + frame.years + tuple(w.lower() for w in re.findall(r"\w+", question))
    return [sentence[a:b] for a, b in candidates(sentence, frame.expects, known, sentence, frame.kind)]


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    # a compound adjective is no name
    ("Who won the best actor Oscar?",
     "Oscar-nominated euthanasia film The Sea Inside from Spain won best foreign film, and Jamie Foxx won.",
     ["Jamie Foxx"]),
    # a date keeps its year: "April 2008" was cut to "April 20"
    ("When will the first 7E7s be delivered to Japan Airlines?",
     "The first 7E7s will be delivered to Japan Airlines in April 2008, and the rest by 31 December 2010.",
     ["April 2008", "31 December 2010"]),
    # a country, a state or a company is no person (Reuters: "who is the president of ...")
    ("Who is the president and chief executive of Kansas City Southern Industries?",
     "Kansas City Southern Industries Inc said an attempt by Santa Fe Southern Pacific Co of Calif. to "
     "reopen the merger was a surprise, Landon Rowland told Japan's press.",
     ["Landon Rowland"]),
    # the word that opens a sentence is not part of the name after it
    ("Who led the team that created the first Apple Macintosh computer?",
     "Although Mr Raskin drove the team that created the Macintosh he did not stay at Apple.",
     ["Mr Raskin"]),
    # a day of a date and a year are not amounts
    ("By how much did British Airways' profits fall in the three months to December 2004?",
     "Reporting its results for the three months to 31 December 2004, the airline made a pre-tax profit of "
     "£75m ($141m) compared with £125m a year earlier.",
     ["£75m", "£125m"]),
    # "what date" wants a day, not a bare year or a month
    ("What date did Gordon Brown set for his 2005 Budget?",
     "Next month's Budget will be Mr Brown's eighth since Labour came to power in 1997.",
     []),
    ("On what date was Harry Potter and the Half-Blood Prince to be released?",
     "Fans avoid the queues on the day of the book's release next July, or on 16 July.",
     ["16 July"]),
    # "60 years since" does not make a date question a "what year" one
    ("On what date was Holocaust Memorial Day held in 2005, marking 60 years since the liberation?",
     "Prince Edward will join the UK delegation for Holocaust Memorial Day on 27 January.",
     ["27 January"]),
    # a duration answers "how long" and nothing else
    ("What was the attendance when Dundee United beat Aberdeen 4-1?",
     "Alan Archibald prodded United ahead in 19 minutes and the crowd of 9,835 cheered.",
     ["9,835"]),
    ("How long did Tim Henman's win over Greg Rusedski last?",
     "World number 46 Rusedski broke in the ninth game; the match lasted two hours and 10 minutes.",
     ["two hours and 10 minutes"]),
    # an apostrophe inside a word neither opens nor closes a quoted title
    ("What is the name of the MTV programme that McDonald's agreed to sponsor?",
     "McDonald's golden arches, name and \"I'm loving it\" catchphrase will be used.",
     ["I'm loving it"]),
    # "which X": a name ending in the kind, an apposition in lower case, a model number before it
    ("Which dam does China's Yangtze Electric Power operate?",
     "Yangtze Electric Power, the operator of China's Three Gorges Dam, said its profits doubled.",
     ["China's Three Gorges Dam"]),
    ("Which bone did England prop Phil Vickery break?",
     "Vickery has broken the radius, a large bone in his forearm.",
     ["radius"]),
    ("Which Nokia handset, fitted with a special shell, will passengers need?",
     "Passengers will need to own a Nokia 3220 handset which will have a special shell attached to it.",
     ["Nokia 3220"]),
    # a nationality is no answer, nor the country the question's own adjective names; a place
    # followed by a verb or preposition is still a place
    ("Which little-known company won the auction of Yukos's main production unit?",
     "A little-known Russian company has bought the main production unit of Yukos at auction in Moscow.",
     ["Moscow"]),
    ("In which Swedish town is the Saab factory where GM will build the Cadillac BLS?",
     "GM will build the Cadillac BLS at its Saab factory in Trollhaettan in Sweden.",
     ["Trollhaettan"]),
    ("Which country did the US accuse?", "The US accused Iran of hiding weapons, and Japan is worried.",
     ["Iran", "Japan"]),
    # the word that opens a sentence is no name, alone either; nor a month joined to a name by "and",
    # nor a compound adjective after "The"
    ("Which Conservative MP defected to Labour?",
     "While saying he admired Mr Blair's leadership, he criticised the Conservatives.",
     ["Mr Blair"]),
    ("Which company bought the unit?",
     "The sale went ahead in December and Yugansk was sold to Baikal Finance Group.",
     ["Yugansk", "Baikal Finance Group"]),
    ("Who won an OBE?", "The Newport-based athlete and team-mate Jason Gardener won OBEs.",
     ["Jason Gardener"]),
    # a quote closes with its own kind of mark; one after a comma closes an earlier quote
    ("In which area did a court rule on the sale?",
     'It was stolen, and we will return it to the state," Mr Yushchenko told an investors\' conference.',
     ["Mr Yushchenko"]),
    # a sum without the conversion the article adds in brackets; a figure in another currency is no count
    ("How much did Bank of America agree to pay the SEC?",
     "Five subsidiaries have agreed to pay a total of $515m (£277m) to settle.", ["$515m"]),
    ("How many jobs did Novartis say it would cut?", "Its shares rose 1% to 57.85 Swiss francs.", []),
    # a duration keeps its units; an age is said as one; a share keeps its sign
    ("How long was Stefan Koubek banned?", "Koubek says he has been banned for three months by the ITF.",
     ["three months"]),
    # "what time" asks a race time: with its units, its hundredths or as a clock reads; not "4x100m"
    ("What time did Jason Gardener run to win the 60m?",
     "Gardener clocked 6.56 seconds, well ahead of Marc Blume, who crossed the line in 6.67 secs.",
     ["6.56 seconds", "6.67 secs"]),
    ("In what time did Joanna Hayes set an Olympic record?",
     "Hayes, 27, set an Olympic record of 12.37 in winning the 100m hurdles.", ["12.37"]),
    ("What time did Tirunesh Dibaba run?",
     "Dibaba won in 14 minutes 32.93 seconds to erase the mark of 14:39.29 set in Stuttgart.",
     ["14 minutes 32.93 seconds", "14:39.29"]),
    ("What time did Jason Gardener run?", "Gardener, part of the 4x100m quartet, won gold in 2004.", []),
    ("How old was Lord Callaghan when he died?",
     "Lord Callaghan, who leaves a son and two daughters, died aged 92.", ["92"]),
    ("What share of the project will Shell own?", "The group will own 30% of the project.", ["30%"]),
    # a score is a result, not its parts; "first-half" is no amount
    ("By what score did Ireland beat South Africa?",
     "O'Gara's first-half try helped the Irish to a 8-3 lead, and they won 17-12.", ["8-3", "17-12"]),
    # "what date" wants a numbered day, not "Wednesday"
    ("On what date did the ban come into force?",
     "He said on Wednesday that the ban would start on 26 March.", ["26 March"]),
    # no place, counted thing, acronym or quoted opener for a person
    ("Who won the Australian Open in 2005?",
     "The title went to Roche, who won five Wimbledon doubles titles, in Melbourne.", ["Roche"]),
    ("Who did Forbes name European Businessman of the Year?",
     "Iain Ferguson was awarded the title by US publication Forbes.", ["Iain Ferguson"]),
    ("Which Conservative MP defected to Labour?",  # a group named by a plural acronym is no person
     "Tony Blair said Robert Jackson MP would be warmly welcomed by Labour MPs.",
     ["Tony Blair", "Robert Jackson MP"]),
    ("Who won the men's race at the 2003 London Marathon?",
     "She was second to Paula Radcliffe in November's New York City marathon.", ["Paula Radcliffe"]),
    ("Which former KGB officer went on hunger strike?",
     '"Since I came to this country, promises have been broken," said Viktor Makarov.', ["Viktor Makarov"]),
    ("Who directed Godzilla: Final Wars?", "The premiere followed a ceremony on Hollywood Boulevard.", []),
    # the asked kind in capitals is part of a name, not the kind: "Cannes Film Festival" is no film
    ("Which film won the Golden Bear at the 2003 Berlin Film Festival?",
     "He won the best director prize at the Cannes Film Festival in 2002.", []),
    # a country or a state names no cactus or bank; it may name a team, or where a thing is
    ("Which cactus is Phytopharm developing?", "The Hoodia cactus is grown by UK firms.", ["The Hoodia"]),
    ("Which team won the 2003 Rugby World Cup?", "The cup went to England in Sydney.", ["England", "Sydney"]),
    ("In which U.S. state is the Honda subsidiary?", "It went to Honda of America in Ohio.",
     ["Honda of America", "Ohio"]),
])
def test_candidates_of_the_asked_type(question: str, sentence: str, expected: list[str]) -> None:
    assert spans(sentence, question) == expected


@pytest.mark.parametrize(("question", "expects"), [
    ("When did Sony launch the PSP?", "date"),
    ("And when did he join Apple?", "date"),
    # "when" inside a question is a conjunction: the question's own phrase decides (a personal best is
    # a figure, a time)
    ("What personal best did James McIlroy set when winning the 800m in Erfurt?", "number"),
    # a figure named by its noun
    ("What net loss did Varity Corp report for its fourth quarter?", "money"),
    ("To what level did Marsh & McLennan cut its dividend?", "number"),
    ("What did Labour propose on maternity pay?", "open"),
    ("How many penalties did Yachvili land when France won at Twickenham?", "number"),
    ("What was the average audience for the EastEnders episode in which Dirty Den was killed off?", "number"),
    # a "which X" question whose X is a person asks for one
    ("Which party leader was arrested on suspicion of incitement to racial hatred?", "person"),
    ("Which jazz flautist's composition Choir was sampled?", "person"),
    ("Which US-based digital music distributor bought the Commodore brand?", "name"),
    ("With whom did Jay-Z found the Roc-A-Fella label?", "person"),
    # a title written with a capital still names a person; so does a first name or surname
    ("Which former Commons Speaker called for the House of Lords to have its own Speaker?", "person"),
    ("Which Conservative MP and former minister defected to Labour?", "person"),
    ("What is the first name of Michael Howard's wife?", "person"),
    ("What is the surname of Lucy, the daughter of Stephen Pound?", "person"),
    # a sum given, pledged, fetched or costed is money, not a count
    ("How much did Gordon Brown pledge to the vaccine scheme?", "money"),
    ("How much did the four suits fetch at a US auction?", "money"),
    ("How much is the rebuild costing?", "money"),
    ("How many jobs did the plan save?", "number"),
])
def test_the_expected_answer_type(question: str, expects: str) -> None:
    assert analyse(question).expects == expects


@pytest.mark.parametrize(("question", "kind"), [
    ("Which dam does China's Yangtze Electric Power operate?", "dam"),
    ("At which school did Jack McConnell speak?", "school"),
    ("Which little-known company won the auction?", "company"),
    ("Which former Scots Guardsman was chosen?", None),  # a name, not a kind
    ("Which southern African cactus is Phytopharm developing?", "cactus"),  # the head, not an adjective
    ("Which jazz flautist's composition Choir was sampled?", "flautist"),  # up to a possessive
    ("Which Morpeth Harrier won the 4km race?", None),  # a name, then the verb: no kind
    ("Which country won the 2001 Rugby World Cup Sevens?", "country"),
    ("At which Atlanta college, his alma mater, did Spike Lee speak?", "college"),
    ("What happened with Glazer's bid?", None),
    ("What is the name of the drug?", None),
    ("What year did it open?", None),
])
def test_the_asked_kind(question: str, kind: str | None) -> None:
    assert analyse(question).kind == kind


@pytest.mark.parametrize(("question", "sentence", "count", "score"), [
    ("How many power cables did Microsoft offer to replace?",
     "Microsoft has said it will replace more than 14 million power cables for its Xbox consoles.",
     "14 million", 1.0),
    ("How many civil servants were there in Britain?",
     "The number of civil servants in Britain rose to more than 520,000 in April.", "520,000", 0.5),
    ("How many votes did Robert Kilroy-Silk win in Erewash?",
     "Labour's Elizabeth Blackman won the seat in 1997 and has a 6,932 majority.", "6,932", 0.0),
])
def test_a_count_of_the_asked_thing(question: str, sentence: str, count: str, score: float) -> None:
    noun = counted_noun(question)
    assert noun is not None
    start = sentence.index(count)
    assert unit_near(sentence, (start, start + len(count)), noun) == score


@pytest.mark.parametrize(("sentence", "answer", "forecast"), [
    ("A saxophone belonging to Charlie Parker is expected to fetch up to $1m (£535,000) at an auction.",
     "£535,000", 1.0),
    ("Reports have put the offer at 300p per share, which would value Manchester United at about £800m.",
     "£800m", 1.0),
    ("Dame Muriel Spark is among three British authors who have made the shortlist for the Booker Prize.",
     "Dame Muriel Spark", 1.0),
    ("Jamie Foxx picked up best actor for playing soul star Ray Charles in Ray.", "Jamie Foxx", 0.0),
    ("In May 2005 the firm paid £10m for the brand.", "£10m", 0.0),  # the month is no "may"
])
def test_a_forecast_is_not_the_fact(sentence: str, answer: str, forecast: float) -> None:
    start = sentence.index(answer)
    assert _forecast(sentence, (start, start + len(answer)), []) == forecast


def test_a_number_ending_a_name_is_no_surname() -> None:
    """A multi-word name counts, shortened, by its last word ("Manchester United" by "United"),
    but not when that word is a number: "PlayStation 3" is not in a story that says "3 million"."""
    text = "Sony's PSP will cost between £130 and £200, and 3 million have been sold."
    assert name_share(("playstation 3",), text.lower(), text) == 0.0
    assert name_share(("manchester united",), "united won 2-0", "United won 2-0") == 0.75


def test_a_shortened_name_inside_another_name_is_not_it() -> None:
    """"Open" is how a story shortens "the Australian Open", but "the French Open" is another contest:
    a sentence on Roche winning the French Open does not name the one asked about."""
    text = "Roche, a former Davis Cup player, won the French Open and reached the US Open final."
    assert name_share(("australian open",), text.lower(), text) == 0.0
    text = "Mr Blair said the Open was over."
    assert name_share(("australian open", "tony blair"), text.lower(), text) == 0.75


def test_a_name_read_leniently_is_still_a_name() -> None:
    """A story is taken to name a company by its last word or its initials, but only as a name: the
    lower-case "international" of "the international tin crisis" is no American International Group,
    and the word "an" is no Andrew Neil; "AIG" and "International" with a capital still count."""
    aig = ["american international group"]
    assert not named_anywhere(aig, "Its losses were caused by the international tin crisis.")
    assert named_anywhere(aig, "AMERICAN INT'L GROUP <AIG> 4TH QTR NET")
    assert named_anywhere(aig, "Shares in International rose.")
    assert not named_anywhere(["andrew neil"], "It was an odd year.")
    assert named_anywhere(["andrew neil"], "Mr Neil said so.")
    assert not named_anywhere(["peru"], "He will peruse the papers.")
    assert named_anywhere(["peru"], "Peruvian output fell.")
    headline = "AMERICAN INT'L GROUP INC <AIG> 4TH QTR NET"  # wire copy's abbreviation, read as the word
    assert name_share(aig, headline.lower(), headline) == 1.0


def test_a_prize_or_a_contest_is_no_person() -> None:
    sentence = "Hilary Swank won Best Actress for Million Dollar Baby while Foxx triumphed as Ray Charles."
    assert spans(sentence, "Who won the best actor Oscar?") == ["Hilary Swank", "Million Dollar Baby", "Foxx",
                                                                "Ray Charles"]
    sentence = "Tony Roche, a former Davis Cup player, won the French Open."
    assert spans(sentence, "Who won the Australian Open in 2005?") == ["Tony Roche"]


def test_a_name_after_an_article_qualifies_a_thing() -> None:
    """"the GB men's team", "the Wimbledon final": a name after "the" is no person; a nationality
    before the name ("the Australian Lleyton Hewitt") keeps it one."""
    sentence = "Peter Riley, who won bronze for the GB men's team, reached the Wimbledon final."
    assert spans(sentence, "Who won the men's race?") == ["Peter Riley"]
    sentence = "He beat the Australian Lleyton Hewitt."
    assert spans(sentence, "Who won the final?") == ["Australian Lleyton Hewitt"]


def test_an_amount_in_words_is_one_answer_and_a_rough_size_none() -> None:
    sentence = "The game has sold more than five million copies, with hundreds of shops sold out."
    assert spans(sentence, "How many copies of Halo 2 were sold?") == ["five million"]
    assert spans("Hundreds of ballot papers have disappeared.", "What was the turnout?") == []


@pytest.mark.parametrize("sentence", [
    "McEwan and Margaret Atwood are the only nominees to have won the main Booker Prize.",
    "Rowetta Satchell, Steve Brookstein and G4 are the remaining finalists.",
])
def test_a_nominee_or_a_finalist_has_not_won(sentence: str) -> None:
    first = sentence.split(" ")[0]  # the answer span: "McEwan", "Rowetta"
    assert _forecast(sentence, (0, len(first)), []) == 1.0


def test_the_asked_detail_missing_from_everything_retrieved() -> None:
    """"What was the verdict in the Hatfield trial?" over a story on the trial's start: the rarest word
    the question asks about ("verdict") is in no retrieved passage, which the answerability model
    weighs against answering; a story that gives the verdict has it."""
    def rare_absent(text: str) -> float:
        article = Article(id="a", title="Hatfield trial", text=text)
        passage = passages_of(article)[0]
        sentences = passage_sentences(passage)
        vectors = np.ones((len(sentences), 4), dtype=np.float32) / 2
        corpus = Corpus(idf=lambda terms: [{"verdict": 3.0}.get(t, 1.0) for t in terms])
        _, rows = features("What was the verdict in the Hatfield trial?", sentences, vectors, vectors[0],
                           [Hit(passage, 1.0, 1)], corpus)
        return float(rows[0, FEATURES.index("rare_absent")])

    assert rare_absent("Five rail managers went on trial over the Hatfield crash.") == 1.0
    assert rare_absent("The jury gave its verdict in the Hatfield trial: not guilty.") == 0.0


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    # the candidate the sentence marks as superseded is not its answer
    ("What time did Tirunesh Dibaba run when she set the world record?",
     "Dibaba won in 14 minutes 32.93 seconds to erase the previous world indoor mark of 14:39.29.",
     "14 minutes 32.93 seconds"),
    # unless the question asks for the earlier one
    ("How much was the previous offer worth?",
     "The bid of $6bn beat the previous offer of $5bn.", "$5bn"),
    # a person's description is no earlier figure
    ("Who won the final?", "Former champion Roger Federer won the final, beating Lleyton Hewitt.",
     "Roger Federer"),
    # else the candidate nearest the question's words
    ("Who won the best actor award?",
     "Foxx was beaten to the best actor award by Owen.", "Owen"),
])
def test_answer_span_picks_the_answer_among_candidates(question: str, sentence: str, expected: str) -> None:
    frame = analyse(question)
    spans = candidates(sentence, frame.expects, known_words(question, frame))
    a, b = answer_span(sentence, spans, content_terms(question), frame.kind)
    assert sentence[a:b] == expected
