//! Words a ticket has whatever it is about: the grammar of each language
//! (pronouns, auxiliaries, conjunctions, prepositions, particles) and the
//! courtesies of a support e-mail. Ticket matching chooses the words that
//! single out a card from the rest.
//!
//! Rarity alone does not drop them in a handbook of several languages: a
//! Romanian "dacă" is in a few Romanian cards only, so counted over every
//! card it looks as rare as "rambursare", and a ticket's sixteen chosen
//! words filled with "dacă", "suntem" and "cineva" match whichever card
//! chats the most. The lists are written as people spell the words and
//! folded by the analyzer, so they meet the ticket's words however typed.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::index::analyzer::Analyzer;

/// Whether `folded` (a word as the analyzer folds it) carries grammar or
/// courtesy rather than what a ticket is about.
pub fn is_function_word(folded: &str) -> bool {
    FOLDED.contains(folded)
}

static FOLDED: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut analyzer = Analyzer::default();
    [ENGLISH, RUSSIAN, ROMANIAN, CHINESE]
        .into_iter()
        .flat_map(str::lines)
        .filter(|line| !line.starts_with('['))
        .flat_map(|line| analyzer.words(line))
        .map(|word| word.folded)
        .collect()
});

// Each list is words as people write them, one kind to a `[heading]`.

const ENGLISH: &str = "\
    [courtesies]\n\
    hi hello hey dear thanks thank please regards best cheers team support help sorry ok\n\
    okay yes yeah\n\
    [pronouns and determiners]\n\
    i me my mine myself we us our ours you your yours he him his she her hers it its\n\
    they them their theirs this that these those who whom whose which what a an the some\n\
    any all each every both either neither other another such own same something\n\
    anything nothing everything someone anyone everyone one\n\
    [auxiliaries and light verbs]\n\
    am is are was were be been being do does did done have has had having will would\n\
    shall should can could may might must get gets got getting let make made go going\n\
    went seems seem know think tell told say said see look want wants wanted need needs\n\
    needed try tried trying\n\
    [contractions typed without their apostrophe]\n\
    im ive id youre weve theyre dont doesnt didnt cant couldnt wont wouldnt isnt arent\n\
    wasnt werent havent hasnt shouldnt lets thats theres whats\n\
    [conjunctions, prepositions, adverbs]\n\
    and or but so if then than because as while though although whether of to in on at\n\
    by for with without from into onto about over under after before between through\n\
    during since until again also just only very really too quite still already yet even\n\
    ever never always now here there when where why how not no more most much many few\n\
    lot lots well anyway actually maybe perhaps right soon today yesterday tomorrow";

const RUSSIAN: &str = "\
    [courtesies]\n\
    здравствуйте привет добрый день вечер утро спасибо благодарю пожалуйста подскажите\n\
    помогите уважением извините простите\n\
    [pronouns and determiners]\n\
    я меня мне мной мы нас нам нами ты тебя тебе вы вас вам вами он его ему им нём она\n\
    её ее ей ней оно они их ими них мой моя моё мои моего моей наш наша наше наши нашего\n\
    нашей нашу ваш ваша ваше ваши вашего вашей вашу свой своя свои своего своей этот эта\n\
    это эти этого этой этим этом тот та то те того той тем том такой такая такое такие\n\
    такого кто что чего чем какой какая какое какие который которая которое которые весь\n\
    вся всё все всех всем сам сама само сами себя себе кто-то что-то ничего никто один\n\
    одна\n\
    [auxiliaries and light verbs]\n\
    быть был была было были будет будут буду будем есть могу может можем можете могут\n\
    мочь можно нельзя нужно надо хочу хотим хотел хотела хотели делать сделать стало\n\
    стал стала знаю понимаю кажется\n\
    [conjunctions, prepositions, particles, adverbs]\n\
    и а но или да нет не ни чтобы как так также тоже если когда потому поэтому хотя ли\n\
    же бы вот ведь уж в во на с со к ко по за из от до у о об обо про для без над под\n\
    при через после перед между уже ещё еще очень только всегда никогда теперь сейчас\n\
    тут там здесь где куда почему зачем снова опять раньше потом тогда просто вообще\n\
    даже почти совсем ну вдруг сегодня вчера завтра";

const ROMANIAN: &str = "\
    [courtesies]\n\
    bună ziua salut mulțumesc mulțumim vă rog stimă scuze scuzați\n\
    [pronouns and determiners]\n\
    eu mă mie îmi mi noi ne nouă ni tu te ție îți voi vouă vi el ea lui ei ele lor îl o\n\
    îi le se își meu mea mei mele nostru noastră noștri noastre tău ta tale vostru\n\
    voastră voștri voastre său sa săi sale acest această acești aceste acestei acestui\n\
    acel acea acei acele asta ăsta aia ăla cine ce care cărui cărei căror cineva ceva\n\
    nimeni nimic tot toată toți toate fiecare un una unui unei niște alt altă alți alte\n\
    același aceeași\n\
    [auxiliaries and light verbs]\n\
    am ai are avem aveți au aș ar ați fi fost sunt ești este e suntem sunteți era eram\n\
    erau va vom vor vei poate pot putem puteți trebuie trebui vreau vrem vreți vrea\n\
    făcut face facem știu cred pare\n\
    [conjunctions, prepositions, adverbs]\n\
    și sau dar iar ci că să dacă deci însă fiindcă deoarece pentru cum când unde de la\n\
    în din pe cu fără despre prin spre până după înainte între sub peste lângă al ale a\n\
    nu da mai foarte doar numai încă deja acum atunci aici acolo aşa așa chiar tocmai\n\
    iarăși mereu niciodată azi astăzi ieri mâine cam cât câte câți câtă atât prea totuși\n\
    oare";

const CHINESE: &str = "\
    [courtesies]\n\
    您好 你好 请问 请 谢谢 感谢 麻烦 帮忙 帮 一下 不好意思\n\
    [pronouns and determiners]\n\
    我 我们 你 你们 您 他 她 它 他们 她们 这 那 这个 那个 这些 那些 这样 那样 哪 哪个 什么 谁 自己 大家 一个 每个 所有 其他 别的\n\
    [auxiliaries, particles, light verbs]\n\
    的 了 着 过 吗 呢 吧 啊 呀 嘛 是 有 没有 没 在 会 能 能不能 可以 可不可以 要 想 应该 需要 得 地 就 就要 都 也 还 又 再 才 已经 正在\n\
    一直 不 不能 不会 别\n\
    [conjunctions, prepositions, adverbs]\n\
    和 与 跟 或 或者 还是 但 但是 可是 而且 因为 所以 如果 虽然 然后 为 为了 为什么 怎么 怎么办 如何 把 被 给 对 从 向 到 里 上 下 时候 现在\n\
    今天 昨天 明天 很 太 非常 比较 一些 一点 这里 那里 这么 那么 直接";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_a_function_word_in_each_language_however_typed() {
        for folded in [
            "the",
            "dont",
            "чтобы",
            "будет",
            "daca",
            "suntem",
            "但是",
            "或者",
        ] {
            assert!(is_function_word(folded), "{folded}");
        }
    }

    #[test]
    fn what_a_ticket_is_about_is_not() {
        for folded in [
            "refund",
            "invoice",
            "возврат",
            "банк",
            "rambursare",
            "429",
            "退款",
            "电话",
        ] {
            assert!(!is_function_word(folded), "{folded}");
        }
    }
}
