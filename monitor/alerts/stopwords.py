"""Stop words for story fingerprints: function words and newsroom boilerplate per language.

Written for this project, compact on purpose: only words that carry no event (articles,
pronouns, auxiliaries, "said", "according to"), casefolded. Weekdays, months, numbers and
verbs of action stay out of these lists, because they are what tells two events apart.
Chinese lists character pairs (the units Chinese is compared in); Japanese needs few, since
kana-only runs (particles, endings) are dropped before these apply.
"""

_LISTS: dict[str, str] = {
    "en": """a about above after again against all also am an and any are aren't as at be
        because been before being below between both but by can could did do does doing down
        during each few for from further had has have having he her here hers him his how i if
        in into is it its it's itself just me more most my no nor not now of off on once only
        or other our ours out over own same she should so some such than that the their theirs
        them then there these they this those through to too under until up very was we were
        what when where which while who whom why will with would you your yours ago amid among
        another around away back still yet via per whether within without upon onto across
        near since says said say saying tells told tell according reported reports reportedly
        report reporting adds added adding stated statement's news today yesterday latest
        update updated lead ld breaking exclusive live watch video photos photo new newly
        first-ever s t's mr mrs ms dr""",
    "de": """aber alle allem allen aller alles als also am an ander andere anderen auch auf aus
        bei beim bin bis bisher bist da damit dann das dass dem den denen der des dessen die
        dies diese diesem diesen dieser dieses doch dort du durch ein eine einem einen einer
        eines er es etwa euch für gegen gewesen hab habe haben hat hatte hatten hier hin ich
        ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ist ja jede jedem jeden jeder jedes
        jetzt kann kein keine können könnte man mehr mit muss nach nicht noch nun nur ob oder
        ohne sehr sein seine seinem seinen seiner seit sich sie sind so soll sollen sollte
        sowie über um und uns unser unter viel vom von vor war waren warum was weil weiter
        welche welchem welchen welcher wenn wer werden wie wieder will wir wird wurde wurden
        zu zum zur zwar zwischen laut sagte sagt teilte mit meldete meldet berichtet berichtete
        angaben zufolge nach heißt hieß erklärte erklärt""",
    "fr": """a à au aux avec ce ces cette dans de des du elle elles en entre est et été être
        eux il ils je la le les leur leurs lui ma mais me même mes moi mon ne nos notre nous on
        ou où par pas pour qu que qui sa sans se ses si son sur ta te tes toi ton tu un une vos
        votre vous y ont a-t-il selon dont après avant depuis lors ainsi aussi encore très plus
        moins déjà sont était étaient fait faire peut doit annoncé déclaré affirmé indiqué
        rapporté a-t-elle avoir""",
    "es": """a al algo algunos ante antes como con contra cual cuando de del desde donde dos
        durante e el ella ellas ellos en entre era es esa ese eso esta este esto estos fue
        fueron ha han hasta hay la las le les lo los más me mi mientras muy ni no nos o os otra
        otro para pero por porque que quien se sea ser si sin sobre son su sus también tan te
        tiene todo tras tu un una uno unos y ya según este esta dijo dice afirmó informó
        señaló anunció aseguró declaró indicó""",
    "tr": """acaba ama ancak artık aslında az bana bazı belki ben beni benim bile bir biri
        birkaç birçok biz bize bu buna bunu bunun çok çünkü da daha de defa diye dolayı en gibi
        göre hem hep hepsi her hiç için ile ise kadar ki kim mi mu mü nasıl ne neden nerede
        niye o olan olarak oldu olduğu olduğunu olmak olması on ona onu onun öyle sadece şey
        siz şu tüm ve veya ya yani üzere açıkladı bildirdi belirtti söyledi dedi ifade etti
        kaydetti""",
    "pl": """a aby ale bardzo bez bo być był była były było ci co czy dla do gdy gdzie go i ich
        ie im jak jako je jego jej jest jeszcze jeśli już ją każdy kiedy kto która które
        którego której który których którym ku lub ma mi między mnie mu na nad nam nas nie
        niej nim o od oraz po pod przed przez przy się są ta tak także tam te tego tej ten to
        tu tylko tym u w we więc z za ze że poinformował poinformowała powiedział
        powiedziała przekazał przekazała podał podała według""",
    "ru": """а без более бы был была были было быть в вам вас весь во вот все всего всех вы
        где да даже для до его ее её ей ему если есть еще ещё же за и из или им их к как
        когда кто ли либо мне может мы на над надо наш не него нее неё нет ни них но ну о об
        однако он она они оно от очень по под после при про с со так также такой там те тем
        то того тоже той только том ты у уже хотя чего чей чем что чтобы чье эта эти это этот
        я заявил заявила заявили сообщил сообщила сообщили сообщает передает передаёт
        отметил отметила сказал сказала говорится пишет словам данным""",
    "uk": """а або але без би був була були було бути в вже від він вона вони воно все всі до
        є ж же з за зі і й із їх к коли ми на над не ні ну о об од один по під після при про
        та так також там те тим то тобто той тільки ти у уже хоча це цей ці цього цю через
        чи що щоб як який яка які заявив заявила заявили повідомив повідомила повідомили
        повідомляє зазначив зазначила сказав сказала""",
    "ko": """및 등 또 또한 더 이번 이날 지난 오는 대해 위해 통해 관련 따르면 따라 가운데 한편
        그러나 하지만 그리고 이후 당시 현재 이미 것 수 것으로 것이라고 밝혔다 밝혔다고
        말했다 전했다 보도했다 설명했다 강조했다 했다 했다고 한다 한다고 있다 있다고 없다
        있는 없는 있으며 이라고 라고 만에 보도 밝혀 관계자 기자 뉴스 속보 종합""",
    "zh": """我们 你们 他们 她们 它们 这个 那个 这些 那些 一个 一些 没有 已经 就是 可以 以及
        对于 关于 由于 因为 所以 但是 如果 还是 或者 以来 表示 指出 进行 当地 时间 期间
        方面 日电 记者 报道 消息 新华 华社 据悉 称为 目前 此外 同时 其中 今天 昨天 此次
        本次 有关""",
    "ja": """同日 今回 発表 報道 記者 速報 関係 係者 明""",
}

STOP_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(text.split()) for language, text in _LISTS.items()
}
LATIN_LANGUAGES = ("en", "de", "fr", "es", "tr", "pl")
