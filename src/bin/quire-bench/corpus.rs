//! A reproducible generator of realistic content folders: four collections
//! with sections, cards in English, Russian, Romanian and Chinese built from
//! real words of each language (Zipf-distributed, so the index sees a
//! realistic vocabulary), bodies from a few lines to several pages (median
//! about 3 KB) with headings, lists, tables, code and wiki-links.

use std::fmt::Write as _;
use std::path::Path;

/// splitmix64: small, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// A Zipf-like pick: early words are much more frequent.
    pub fn zipf<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let i = ((words.len() as f64).powf(u) - 1.0) as usize;
        words[i.min(words.len() - 1)]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lang {
    En,
    Ru,
    Ro,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Ro => "ro",
            Lang::Zh => "zh",
        }
    }

    pub fn words(self) -> &'static [&'static str] {
        match self {
            Lang::En => EN,
            Lang::Ru => RU,
            Lang::Ro => RO,
            Lang::Zh => ZH,
        }
    }

    fn separator(self) -> &'static str {
        if self == Lang::Zh { "" } else { " " }
    }
}

pub const EN: &[&str] = &[
    "the",
    "customer",
    "support",
    "team",
    "refund",
    "plan",
    "annual",
    "account",
    "billing",
    "invoice",
    "ticket",
    "escalation",
    "agent",
    "reply",
    "policy",
    "request",
    "feature",
    "password",
    "reset",
    "access",
    "data",
    "export",
    "integration",
    "webhook",
    "email",
    "payment",
    "card",
    "subscription",
    "renewal",
    "trial",
    "upgrade",
    "downgrade",
    "cancel",
    "contract",
    "priority",
    "urgent",
    "incident",
    "outage",
    "status",
    "engineer",
    "tier",
    "handoff",
    "sales",
    "onboarding",
    "training",
    "shift",
    "schedule",
    "weekend",
    "holiday",
    "manager",
    "owner",
    "review",
    "feedback",
    "survey",
    "score",
    "response",
    "time",
    "hours",
    "days",
    "within",
    "after",
    "before",
    "when",
    "always",
    "never",
    "should",
    "must",
    "can",
    "check",
    "verify",
    "confirm",
    "explain",
    "apologize",
    "offer",
    "credit",
    "discount",
    "charge",
    "chargeback",
    "dispute",
    "bank",
    "tax",
    "receipt",
    "currency",
    "price",
    "seat",
    "user",
    "admin",
    "permission",
    "role",
    "security",
    "report",
    "vulnerability",
    "phishing",
    "login",
    "two-factor",
    "code",
    "device",
    "browser",
    "mobile",
    "app",
    "version",
    "release",
    "bug",
    "workaround",
    "known",
    "issue",
    "limit",
    "rate",
    "quota",
    "storage",
    "retention",
    "deletion",
    "privacy",
    "gdpr",
    "consent",
    "legal",
    "terms",
    "rule",
    "exception",
    "approve",
    "deny",
    "decline",
    "escalate",
    "assign",
    "queue",
    "backlog",
    "macro",
    "template",
    "tone",
    "voice",
    "friendly",
    "clear",
    "short",
    "answer",
    "question",
    "problem",
    "solution",
    "steps",
    "guide",
    "article",
    "documentation",
    "handbook",
    "process",
    "checklist",
    "template",
    "example",
    "note",
    "warning",
    "important",
    "customer's",
    "their",
    "first",
    "second",
    "third",
    "month",
    "year",
    "week",
    "migration",
    "import",
    "api",
    "token",
    "key",
    "error",
    "timeout",
    "sync",
    "calendar",
    "notification",
    "slack",
    "channel",
    "call",
    "meeting",
    "demo",
    "renewals",
    "refunds",
    "customers",
    "agents",
    "tickets",
    "requests",
    "features",
    "invoices",
    "payments",
    "plans",
    "accounts",
];

pub const RU: &[&str] = &[
    "клиент",
    "клиента",
    "клиенту",
    "клиентов",
    "поддержка",
    "поддержки",
    "команда",
    "команды",
    "возврат",
    "возврата",
    "средств",
    "деньги",
    "тариф",
    "тарифа",
    "годовой",
    "годового",
    "подписка",
    "подписки",
    "счёт",
    "счета",
    "оплата",
    "оплаты",
    "платёж",
    "запрос",
    "запроса",
    "запросы",
    "функция",
    "функции",
    "пароль",
    "пароля",
    "доступ",
    "доступа",
    "данные",
    "данных",
    "экспорт",
    "интеграция",
    "письмо",
    "письма",
    "ответ",
    "ответа",
    "правило",
    "правила",
    "исключение",
    "эскалация",
    "эскалации",
    "уровень",
    "уровня",
    "инженер",
    "инженера",
    "дежурство",
    "смена",
    "смены",
    "выходные",
    "праздник",
    "менеджер",
    "владелец",
    "отзыв",
    "отзывы",
    "обратная",
    "связь",
    "время",
    "часов",
    "дней",
    "всегда",
    "никогда",
    "нужно",
    "можно",
    "проверить",
    "подтвердить",
    "объяснить",
    "извиниться",
    "предложить",
    "скидка",
    "скидку",
    "списание",
    "спор",
    "банк",
    "налог",
    "чек",
    "валюта",
    "цена",
    "место",
    "пользователь",
    "пользователя",
    "администратор",
    "права",
    "роль",
    "безопасность",
    "отчёт",
    "уязвимость",
    "вход",
    "код",
    "устройство",
    "браузер",
    "приложение",
    "версия",
    "релиз",
    "ошибка",
    "ошибки",
    "обход",
    "известная",
    "проблема",
    "проблемы",
    "лимит",
    "квота",
    "хранение",
    "удаление",
    "конфиденциальность",
    "согласие",
    "условия",
    "одобрить",
    "отклонить",
    "назначить",
    "очередь",
    "шаблон",
    "тон",
    "голос",
    "вежливо",
    "коротко",
    "вопрос",
    "вопросы",
    "решение",
    "шаги",
    "инструкция",
    "статья",
    "процесс",
    "пример",
    "заметка",
    "важно",
    "первый",
    "второй",
    "месяц",
    "год",
    "неделя",
    "миграция",
    "импорт",
    "токен",
    "ключ",
    "сбой",
    "инцидент",
    "статус",
    "продажи",
    "передача",
    "обучение",
    "новичок",
    "новичков",
];

pub const RO: &[&str] = &[
    "clientul",
    "clientului",
    "clienți",
    "clienților",
    "suport",
    "suportul",
    "echipa",
    "echipei",
    "rambursare",
    "rambursări",
    "rambursarea",
    "bani",
    "plan",
    "planul",
    "anual",
    "abonament",
    "abonamentul",
    "abonamente",
    "factură",
    "facturi",
    "plată",
    "plăți",
    "cerere",
    "cereri",
    "cererea",
    "funcție",
    "funcții",
    "parolă",
    "parola",
    "acces",
    "date",
    "datele",
    "export",
    "integrare",
    "e-mail",
    "răspuns",
    "răspunsul",
    "regulă",
    "reguli",
    "excepție",
    "escaladare",
    "escaladări",
    "nivel",
    "nivelul",
    "inginer",
    "ingineri",
    "tură",
    "ture",
    "weekend",
    "sărbătoare",
    "manager",
    "proprietar",
    "feedback",
    "întrebare",
    "întrebări",
    "întrebările",
    "timp",
    "ore",
    "zile",
    "întotdeauna",
    "niciodată",
    "trebuie",
    "poate",
    "verificați",
    "confirmați",
    "explicați",
    "scuze",
    "ofertă",
    "reducere",
    "credit",
    "debitare",
    "dispută",
    "bancă",
    "taxă",
    "chitanță",
    "monedă",
    "preț",
    "utilizator",
    "utilizatorul",
    "administrator",
    "permisiuni",
    "rol",
    "securitate",
    "raport",
    "vulnerabilitate",
    "autentificare",
    "cod",
    "dispozitiv",
    "browser",
    "aplicație",
    "versiune",
    "eroare",
    "erori",
    "soluție",
    "problemă",
    "probleme",
    "limită",
    "stocare",
    "ștergere",
    "confidențialitate",
    "consimțământ",
    "termeni",
    "aprobați",
    "refuzați",
    "atribuiți",
    "coadă",
    "șablon",
    "ton",
    "politicos",
    "scurt",
    "pași",
    "ghid",
    "articol",
    "proces",
    "exemplu",
    "notă",
    "important",
    "prima",
    "doua",
    "lună",
    "an",
    "săptămână",
    "migrare",
    "import",
    "cheie",
    "incident",
    "stare",
    "vânzări",
    "predare",
    "instruire",
    "angajat",
    "angajați",
    "noi",
    "și",
    "în",
    "pentru",
    "care",
    "este",
    "sunt",
    "cu",
    "la",
    "de",
    "pe",
];

pub const ZH: &[&str] = &[
    "客户",
    "支持",
    "团队",
    "退款",
    "套餐",
    "年度",
    "账户",
    "账单",
    "发票",
    "工单",
    "升级",
    "客服",
    "回复",
    "政策",
    "请求",
    "功能",
    "密码",
    "重置",
    "访问",
    "数据",
    "导出",
    "集成",
    "邮件",
    "付款",
    "订阅",
    "续订",
    "试用",
    "取消",
    "合同",
    "优先级",
    "紧急",
    "事故",
    "故障",
    "状态",
    "工程师",
    "级别",
    "交接",
    "销售",
    "入职",
    "培训",
    "排班",
    "周末",
    "假期",
    "经理",
    "负责人",
    "审核",
    "反馈",
    "调查",
    "评分",
    "响应",
    "时间",
    "小时",
    "天内",
    "之后",
    "之前",
    "总是",
    "从不",
    "应该",
    "必须",
    "可以",
    "检查",
    "核实",
    "确认",
    "解释",
    "道歉",
    "提供",
    "积分",
    "折扣",
    "扣款",
    "拒付",
    "争议",
    "银行",
    "税费",
    "收据",
    "货币",
    "价格",
    "席位",
    "用户",
    "管理员",
    "权限",
    "角色",
    "安全",
    "报告",
    "漏洞",
    "钓鱼",
    "登录",
    "验证码",
    "设备",
    "浏览器",
    "移动",
    "应用",
    "版本",
    "发布",
    "缺陷",
    "临时方案",
    "已知",
    "问题",
    "限制",
    "速率",
    "配额",
    "存储",
    "保留",
    "删除",
    "隐私",
    "同意",
    "法律",
    "条款",
    "规则",
    "例外",
    "批准",
    "拒绝",
    "分配",
    "队列",
    "模板",
    "语气",
    "友好",
    "清晰",
    "简短",
    "答案",
    "解决方案",
    "步骤",
    "指南",
    "文章",
    "文档",
    "内部知识库",
    "知识库",
    "流程",
    "清单",
    "示例",
    "注意",
    "重要",
    "迁移",
    "导入",
    "令牌",
    "密钥",
    "错误",
    "超时",
    "同步",
    "通知",
    "频道",
    "会议",
    "演示",
    "我们",
    "的",
    "和",
    "在",
    "需要",
    "如果",
    "请",
    "一个",
    "这个",
];

const COLLECTIONS: &[&str] = &["playbooks", "escalation", "onboarding", "product"];
const TAGS: &[&str] = &[
    "billing",
    "refunds",
    "escalation",
    "onboarding",
    "handoff",
    "security",
    "sla",
    "tone",
    "hiring",
    "feedback",
    "policy",
    "product",
    "api",
    "account",
    "gdpr",
    "oncall",
    "payments",
    "mobile",
    "integrations",
    "limits",
    "incidents",
    "vip",
    "training",
    "shifts",
    "chargebacks",
    "privacy",
    "macros",
    "status",
    "migration",
    "trial",
];
const OWNERS: &[&str] = &[
    "ana@lumen.example",
    "boris@lumen.example",
    "chen@lumen.example",
    "dana@lumen.example",
    "elena@lumen.example",
    "felix@lumen.example",
    "gheorghe@lumen.example",
    "hana@lumen.example",
    "ivan@lumen.example",
    "jia@lumen.example",
];

/// What was generated: enough to build queries that hit real cards.
pub struct Corpus {
    pub ids: Vec<String>,
    pub langs: Vec<Lang>,
    pub bytes: u64,
}

pub fn lang_of(i: usize) -> Lang {
    match i % 20 {
        0..=10 => Lang::En,
        11..=13 => Lang::Ru,
        14..=16 => Lang::Ro,
        _ => Lang::Zh,
    }
}

/// The id of card `i`: `collection/section[/sub]/card-<i>`.
pub fn id_of(i: usize, cards: usize) -> String {
    let mut rng = Rng::new(0xC0FFEE ^ (i as u64).wrapping_mul(0x1000_0001));
    let collection = COLLECTIONS[i % COLLECTIONS.len()];
    let sections = (cards / 200).clamp(3, 200);
    let section = rng.below(sections);
    if rng.chance(30) {
        format!(
            "{collection}/section-{section}/part-{}/card-{i}",
            rng.below(5)
        )
    } else {
        format!("{collection}/section-{section}/card-{i}")
    }
}

pub fn sentence(rng: &mut Rng, lang: Lang, words: usize) -> String {
    let sep = lang.separator();
    let mut s = String::new();
    for w in 0..words {
        if w > 0 {
            s.push_str(sep);
        }
        s.push_str(rng.zipf(lang.words()));
    }
    s.push(if lang == Lang::Zh { '。' } else { '.' });
    s
}

/// Writes `cards` cards under `root` (which should be empty).
pub fn generate(root: &Path, cards: usize, seed: u64) -> std::io::Result<Corpus> {
    let mut rng = Rng::new(seed);
    let mut corpus = Corpus {
        ids: Vec::with_capacity(cards),
        langs: Vec::with_capacity(cards),
        bytes: 0,
    };
    for collection in COLLECTIONS {
        std::fs::create_dir_all(root.join(collection))?;
        write_settled(
            &root.join(collection).join("_index.md"),
            &format!(
                "---\ntitle: {collection}\ndescription: Generated collection {collection}.\n---\n"
            ),
        )?;
    }
    for i in 0..cards {
        let id = id_of(i, cards);
        let lang = lang_of(i);
        let text = card_text(&mut rng, i, cards, lang);
        let path = root.join(format!("{id}.md"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        corpus.bytes += text.len() as u64;
        write_settled(&path, &text)?;
        corpus.ids.push(id);
        corpus.langs.push(lang);
    }
    Ok(corpus)
}

/// Writes a file dated an hour ago, as a folder checked out before the
/// server starts is: a file stamped in the moments after it was written is
/// read again at the next start (`content::card::RACY_WINDOW`), which would
/// make the restart figure that of a folder written that very second.
fn write_settled(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    file.write_all(text.as_bytes())?;
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
}

fn card_text(rng: &mut Rng, i: usize, cards: usize, lang: Lang) -> String {
    let mut out = String::with_capacity(4096);
    let title = {
        let n = rng.range(3, 7);
        sentence(rng, lang, n)
    };
    let title = title.trim_end_matches(['.', '。']);
    let _ = writeln!(out, "---\ntitle: \"{title}\"\nsummary: \"{}\"", {
        let n = rng.range(8, 16);
        sentence(rng, lang, n)
    });
    let tags: Vec<&str> = (0..rng.range(1, 4)).map(|_| *rng.pick(TAGS)).collect();
    let _ = writeln!(
        out,
        "tags: [{}]\nowner: {}",
        tags.join(", "),
        rng.pick(OWNERS)
    );
    if rng.chance(80) {
        let _ = writeln!(
            out,
            "verified_by: {}\nverified_at: 202{}-{:02}-{:02}\nverify_every: {}",
            rng.pick(OWNERS),
            rng.range(5, 6),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.pick(&["30d", "90d", "12w", "6m", "1y"])
        );
    }
    if rng.chance(50) {
        let _ = writeln!(out, "lang: {}", lang.code());
    }
    out.push_str("---\n");
    // Body length: mostly a page, sometimes a few lines, sometimes several
    // pages (a long tail), so the median lands near 3 KB.
    let paragraphs = match rng.below(10) {
        0 => rng.range(1, 2),
        1..=6 => rng.range(4, 8),
        7 | 8 => rng.range(9, 16),
        _ => rng.range(17, 40),
    };
    let per_paragraph = if lang == Lang::Zh { (20, 50) } else { (25, 60) };
    for p in 0..paragraphs {
        if p > 0 && p % 3 == 0 {
            let _ = writeln!(
                out,
                "\n## {}\n",
                {
                    let n = rng.range(2, 5);
                    sentence(rng, lang, n)
                }
                .trim_end_matches(['.', '。'])
            );
        }
        let mut para = String::new();
        for _ in 0..rng.range(2, 4) {
            para.push_str(&{
                let n = rng.range(per_paragraph.0 / 3, per_paragraph.1 / 3);
                sentence(rng, lang, n)
            });
            para.push_str(lang.separator());
        }
        if rng.chance(25) && cards > 1 {
            let target = id_of(rng.below(cards), cards);
            let _ = write!(para, " [[{target}]]");
        }
        if rng.chance(10) && cards > 1 {
            let target = id_of(rng.below(cards), cards);
            let _ = write!(
                para,
                " [{}](/{target}.md)",
                sentence(rng, lang, 2).trim_end_matches(['.', '。'])
            );
        }
        out.push('\n');
        out.push_str(para.trim_end());
        out.push('\n');
        match rng.below(12) {
            0 => {
                out.push('\n');
                for _ in 0..rng.range(2, 5) {
                    let _ = writeln!(out, "- {}", {
                        let n = rng.range(3, 8);
                        sentence(rng, lang, n)
                    });
                }
            }
            1 => {
                let _ = writeln!(
                    out,
                    "\n| {} | {} |\n|---|---|",
                    rng.zipf(lang.words()),
                    rng.zipf(lang.words())
                );
                for _ in 0..rng.range(2, 5) {
                    let _ = writeln!(
                        out,
                        "| {} | {} |",
                        rng.zipf(lang.words()),
                        rng.range(1, 999)
                    );
                }
            }
            2 => {
                let _ = writeln!(
                    out,
                    "\n```sh\ncurl -H 'Authorization: Bearer $TOKEN' https://api.lumen.example/v2/tickets/{i}\n```"
                );
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let a = card_text(&mut Rng::new(7), 1, 100, Lang::Ro);
        let b = card_text(&mut Rng::new(7), 1, 100, Lang::Ro);
        assert_eq!(a, b);
        assert_ne!(a, card_text(&mut Rng::new(8), 1, 100, Lang::Ro));
    }
}
