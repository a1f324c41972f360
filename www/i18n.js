// Every string the <diffusion-lab> element shows, in German and English, written for learners.
// Error leads are keyed by what ran and the error's code: `err{Load|Generate|Forward}_{code}`.
// `{name}` placeholders are filled in by `format()`.

export const messages = {
  de: {
    tabsLabel: 'Was möchtest du sehen?',
    tabReverse: 'Erzeugen (rückwärts)',
    tabForward: 'Verrauschen (vorwärts)',
    tabCompare: 'Wenige oder viele Schritte',

    reverseIntro: 'Das Modell beginnt mit reinem Rauschen und entfernt – geleitet von deinem Prompt – Schritt für Schritt das Rauschen, bis ein Bild übrig bleibt: wie eine Bildhauerin, die eine Figur aus einem Block schlägt, nur dass der Block aus Rauschen ist und der Prompt sagt, welche Figur darin steckt.',
    promptLabel: 'Was soll das Bild zeigen? (Prompt)',
    promptPlaceholder: 'z. B. Hund, roter Apfel, lachende Sonne',
    promptHint: 'Ein paar Wörter auf Deutsch oder Englisch.',
    schedAlt: 'Kurven: wie viel Bild und wie viel Rauschen das verrauschte Bild bei jedem t enthält. Markierte Zeitpunkte: {marks}.',
    schedAltAt: 'Kurven: wie viel Bild und wie viel Rauschen das verrauschte Bild bei jedem t enthält. Bei t = {t}: {signal} % Bild, {noise} % Rauschen (Faktoren √ᾱ = {signalFactor}, √(1−ᾱ) = {noiseFactor}). Markierte Zeitpunkte: {marks}.',
    schedCaptionForward: 'Durchgezogen: √ᾱ_t, so viel vom Bild steckt in x_t. Gestrichelt: √(1−ᾱ_t), so viel Rauschen. Die Dreiecke zeigen, wo die {student} Schritte des Schülers (farbig) und die {teacher} des Lehrers (grau) liegen: Wenige große Sprünge reichen, weil jeder Schritt das fertige Bild schätzt und nicht nur ein wenig Rauschen abzieht.',
    schedCaptionForwardTeacher: 'Durchgezogen: √ᾱ_t, so viel vom Bild steckt in x_t. Gestrichelt: √(1−ᾱ_t), so viel Rauschen. Die Dreiecke zeigen, wo die {teacher} Schritte des Lehrers liegen.',
    schedCaptionReverse: 'Der Weg dieses Durchlaufs auf dem Rauschplan: von reinem Rauschen (t = 999, rechts) zum Bild (t = 0, links). Die Dreiecke sind seine Schritte, die Linie der Schritt, den du gerade ansiehst.',
    detailAlt: 'Wie weit die Schätzung des fertigen Bildes nach jedem der {steps} Schritte noch vom Ergebnis entfernt ist. Nach Schritt {mid}: grobe Formen noch {coarse} %, feine Details noch {fine} %.',
    detailCaption: 'Zuerst grobe Umrisse, dann Farben, zuletzt feine Details: Durchgezogen ist, wie weit die groben Formen und Farbflächen (Mittelwerte über 4 × 4 Pixel) der Schätzung x̂₀ nach jedem Schritt noch vom fertigen Bild entfernt sind, gestrichelt die feinen Details (der Rest). 1 = so weit wie das Startrauschen, 0 = angekommen. Darunter x̂₀ nach jedem Schritt.',
    mathsShow: 'Formeln zeigen',
    mathsForward: 'Vorwärtsprozess q(x_t | x₀): x_t = √ᾱ_t · x₀ + √(1−ᾱ_t) · ε, hier bei t = {t} mit ᾱ_t = {alphaBar}: x_t = {sa} · x₀ + {sn} · ε, ε zufällig aus einer Normalverteilung. Das Netz sieht nur x_t, t und den Prompt und sagt v̂ voraus; daraus ε̂ = √(1−ᾱ_t) · x_t + √ᾱ_t · v̂ und die Rekonstruktion x̂₀ = (x_t − √(1−ᾱ_t) · ε̂) / √ᾱ_t. Der Schätzfehler ist der Mittelwert von (ε − ε̂)² über alle Pixel und Farben.',
    mathsReverseStart: 'Der Rückwärtsprozess beginnt mit reinem Rauschen x_T ~ N(0, 1). Wähle einen Schritt, um seine Formel mit den Zahlen zu sehen.',
    mathsReverse: 'Schritt {step} von {total}, bei t = {t}: Das Netz sagt v̂ voraus. {guidance} Daraus x̂₀ = √ᾱ_t · x_t − √(1−ᾱ_t) · v̂ = {sa} · x_t − {sn} · v̂ und ε̂ = √(1−ᾱ_t) · x_t + √ᾱ_t · v̂. Der nächste Punkt (DDIM): x_t′ = √ᾱ_t′ · x̂₀ + √(1−ᾱ_t′) · ε̂ = {sa2} · x̂₀ + {sn2} · ε̂ bei t′ = {tNext}.{dpm}',
    mathsReverseLast: 'Schritt {step} von {total}, bei t = {t}: Das Netz sagt v̂ voraus. {guidance} Daraus x̂₀ = √ᾱ_t · x_t − √(1−ᾱ_t) · v̂ = {sa} · x_t − {sn} · v̂. Der letzte Schritt landet auf x̂₀: Das ist das fertige Bild.',
    mathsGuidanceTeacher: 'Classifier-free Guidance mit w = {w}: v̂ = v̂_ohne + w · (v̂_mit − v̂_ohne), aus zwei Aufrufen des Netzes, mit und ohne Prompt.',
    mathsGuidanceStudent: 'Der Schüler hat die Guidance eingebaut: ein Aufruf des Netzes.',
    mathsDpm: ' DPM-Solver++(2M), der Sampler des Lehrers, nimmt dazu das x̂₀ des vorigen Schritts (zweite Ordnung) und kommt so mit weniger Schritten aus.',
    tabExplore: 'Seeds und Guidance',
    exploreIntro: 'Was ändert der Startwert, was die Guidance? Hier steht derselbe Prompt mehrmals nebeneinander.',
    expSeedLabel: 'Erster Startwert (Seed)',
    expSeedHint: 'Die Seeds zählen von hier an aufwärts; die Guidance-Reihe nimmt diesen einen.',
    expStepsHint: 'Für die Guidance-Reihe, von {min} bis {max}; der Schüler nimmt seine eigenen.',
    expOtherLabel: 'Zweiter Prompt (zum Überblenden)',
    expOtherHint: 'Zwischen den beiden Prompts wird die Bedeutung gemischt, nicht das Bild.',
    expOtherDefault: 'Katze',
    expBlendRun: 'Von einem Prompt zum anderen',
    expBlendTitle: 'Von „{prompt}“ zu „{other}“, Startwert {seed}',
    expBlendExplain: 'Der Textencoder macht aus jedem Prompt einen Vektor aus 384 Zahlen. Hier wird der Vektor des ersten Prompts Schritt für Schritt in den des zweiten überblendet, bei gleichem Startrauschen: So sieht man, was das Modell „zwischen“ zwei Bedeutungen malt.',
    expCellBlend: '{percent} % zweiter Prompt',
    expSeedsRun: '{n} Seeds zeigen',
    expGuidanceRun: 'Guidance {list} vergleichen',
    expSeedsTitle: '„{prompt}“ mit {n} Startwerten ab {seed}',
    expGuidanceTitle: '„{prompt}“ mit Startwert {seed}: der Lehrer bei verschiedener Guidance, der Schüler daneben',
    expSeedsExplain: 'Der Startwert legt fest, mit welchem Rauschen das Modell beginnt. Aus anderem Rauschen entsteht ein anderes Bild zum selben Prompt, so verschieden, wie das Modell es gelernt hat. Gleicher Startwert und gleicher Prompt: dasselbe Bild.',
    expGuidanceExplain: 'Guidance mischt zwei Schätzungen des Lehrers, eine mit und eine ohne Prompt. Bei 0 zählt der Prompt gar nicht; je größer der Wert, desto stärker folgt das Bild dem Prompt, bis die Farben grell werden. Dafür braucht der Lehrer zwei Modellaufrufe pro Schritt. Der Schüler hat eine feste Guidance beim Destillieren gelernt und braucht einen.',
    expCellSeed: 'Seed {seed}',
    expCellGuidance: 'Guidance {guidance}',
    expCellStudent: 'Schüler (Guidance eingebaut)',
    expCellDone: '{label}: {passes} Modellaufrufe, {seconds} s',
    expCellWaiting: '{label}: wartet …',
    expCellAlt: '{label}: das Bild zu „{prompt}“',
    expCellAltEmpty: '{label}: noch kein Bild',
    statusExploring: 'Die Bilder entstehen eines nach dem anderen …',
    statusExploreDone: 'Fertig: {n} Bilder.',
    statusExploreCancelled: 'Abgebrochen nach {done} von {total} Bildern.',
    examplesLabel: 'Beispiele:',
    // the default example prompts (a page sets its own with examples="…|…"): ones this model draws
    examplePrompts: 'Hund|eine Sonnenblume|ein Frosch|Schildkröte|eine Pizza',
    exampleTitle: 'Mit dem Prompt „{prompt}“ ein Bild erzeugen',
    modelLabel: 'Modell',
    modelStudent: 'Schüler (destilliert, wenige Schritte)',
    modelTeacher: 'Lehrer (Original, viele Schritte)',
    modelHintStudent: 'Hat vom Lehrer gelernt, in wenigen großen Schritten ans Ziel zu kommen: ein Modellaufruf pro Schritt.',
    modelHintTeacher: 'Das ursprüngliche Modell: viele kleine Schritte, zwei Modellaufrufe pro Schritt (mit und ohne Prompt, „Classifier-free Guidance“).',
    seedLabel: 'Startwert (Seed)',
    seedHint: 'Gleicher Startwert und gleicher Prompt ergeben dasselbe Bild.',
    newSeedLabel: 'Neuer Startwert: zufälligen Seed wählen und mit demselben Prompt gleich neu erzeugen',
    stepsLabel: 'Schritte',
    stepsHint: 'Wie oft das Modell Rauschen entfernt ({min} bis {max}).',
    guidanceLabel: 'Guidance (Prompt-Treue)',
    guidanceHint: 'Wie stark das Bild dem Prompt folgt: 0 = gar nicht, {value} = Standard, höchstens {max}.',
    guidanceHintStudent: 'Beim Schüler fest eingebaut: Die Guidance wurde beim Destillieren „eingebacken“, deshalb gibt es hier nichts einzustellen.',
    generate: 'Bild erzeugen',
    working: 'Läuft …',
    cancel: 'Abbrechen',

    timelineLabel: 'Die Schritte dieses Durchlaufs',
    scrubLabel: 'Schritt ansehen',
    play: 'Schritte als Animation abspielen',
    pause: 'Animation anhalten',
    reducedMotionHint: 'Dein System wünscht weniger Bewegung, deshalb läuft nichts von selbst ab. Mit dem Schieberegler kannst du durch die Schritte gehen.',
    exportLabel: 'Speichern:',
    savePng: 'Bild (PNG, 256 px)',
    saveStrip: 'Alle Schritte (PNG-Streifen)',

    statusIdle: 'Bereit. Das Modell wird beim ersten Klick geladen.',
    statusLoading: 'Lade das Modell …',
    statusLoadingFile: 'Lade das Modell … ({file})',
    statusReady: 'Modell geladen. Gerechnet wird mit {backend}.',
    statusGenerating: 'Entrausche Schritt für Schritt …',
    statusStarting: 'Starte mit reinem Rauschen …',
    statusDone: 'Fertig: {steps} Schritte in {seconds} s ({backend}).',
    statusDoneOne: 'Fertig: 1 Schritt in {seconds} s ({backend}).',
    statusFailed: 'Das hat nicht geklappt. Die Meldung darunter erklärt, warum.',
    statusCancelled: 'Abgebrochen nach {step} von {total} Schritten.',
    statusCancelledBefore: 'Abgebrochen, bevor ein Schritt lief. „Bild erzeugen“ fängt von vorn an (schon geladene Modelldateien bleiben).',
    statusSaved: 'Gespeichert als {file}.',
    statusComparing: 'Vergleiche: erst der Schüler, dann der Lehrer …',
    statusCompareDone: 'Vergleich fertig.',

    progressMb: '{loaded} / {total} MB',
    progressLabel: 'Download der Modelldateien',

    backendWebgpu: 'WebGPU auf der Grafikkarte ({adapter})',
    backendWebgpuNoName: 'WebGPU auf der Grafikkarte',
    backendWebgpuSoftware: 'WebGPU, in Software auf dem Prozessor nachgebildet (keine Grafikkarte gefunden, daher langsam)',
    backendCpu: 'dem Prozessor (CPU, WebAssembly)',
    backendShortWebgpu: 'WebGPU',
    backendShortCpu: 'CPU',
    cpuNotice: 'WebGPU ist hier nicht verfügbar. Das Bild wird deshalb auf dem langsameren Weg über den Prozessor (CPU) berechnet – das funktioniert, dauert aber länger.',
    cpuNoticeReason: 'Grund: {reason}',
    cacheNoticeFull: 'Die Modelldateien konnten nicht für die Offline-Nutzung gespeichert werden: Der Speicher des Browsers ist voll. Alles funktioniert, aber beim nächsten Besuch werden sie noch einmal heruntergeladen.',
    cacheNotice: 'Die Modelldateien konnten nicht für die Offline-Nutzung gespeichert werden ({reason}). Alles funktioniert, aber beim nächsten Besuch werden sie noch einmal heruntergeladen.',

    mainCaption: 'Das Bild nach diesem Schritt (x_t)',
    mainAlt: 'Aktuelles Bild nach Schritt {step} von {total}',
    mainAltStart: 'Reines Rauschen: das Bild, mit dem die Erzeugung beginnt',
    mainAltEmpty: 'Noch kein Bild. Starte mit „Bild erzeugen“.',
    epsCaption: 'Geschätztes Rauschen (ε̂)',
    epsAlt: 'Das Rauschen, das das Modell in diesem Schritt im Bild vermutet',
    x0Caption: 'Vorhersage des fertigen Bildes (x̂₀)',
    x0Alt: 'Wie das fertige Bild nach Meinung des Modells in diesem Schritt aussieht',
    noEstimateAlt: 'Noch leer: Vor dem ersten Schritt hat das Modell noch nichts geschätzt',
    stepCounter: 'Schritt {step} / {total}',
    stepCounterStart: 'Start: reines Rauschen (Schritt 0 / {total})',
    stepCounterEmpty: 'Schritt – / –',
    stepTime: 'Dieser Schritt: {ms} ms',
    stepTimestep: 'Zeitpunkt t = {t}',
    stepTimestepStart: 'Noch kein Schritt gerechnet',
    explain: 'Links siehst du das Bild nach jedem Schritt. Rechts: was das Modell gerade für Rauschen hält und welches fertige Bild es daraus errät. Zuerst entstehen grobe Umrisse, dann Farben, zuletzt Details.',

    forwardIntro: 'Beim Training läuft es andersherum: Man nimmt ein echtes Bild, mischt Rauschen hinein und fragt das Modell, welches Rauschen hinzugefügt wurde.',
    fwdSourceLabel: 'Bild',
    fwdSourceHint: 'Ein Beispiel aus den Trainingsdaten oder dein zuletzt erzeugtes Bild.',
    fwdSourceLast: 'Dein zuletzt erzeugtes Bild',
    fwdSourceLastNone: 'Dein zuletzt erzeugtes Bild (noch keins)',
    fwdSourceExample: 'Beispiel: {label}',
    fwdNoSource: 'Hier gibt es keine Beispielbilder. Erzeuge zuerst ein Bild (Reiter „Erzeugen“), dann kannst du es hier verrauschen.',
    fwdPromptLabel: 'Was das Bild zeigt (für das Modell)',
    fwdPromptHint: 'Leer lassen, um zu sehen, wie gut das Modell ohne Beschreibung schätzt.',
    fwdTLabel: 'Rauschstärke t',
    fwdTHint: '0 = fast kein Rauschen, 999 = nur noch Rauschen.',
    fwdTValue: 't = {t} von 999',
    fwdSeedLabel: 'Startwert des Rauschens',
    fwdNewNoise: 'Neues Rauschen: zufälligen Startwert wählen',
    fwdMix: 't = {t}: Das verrauschte Bild besteht zu {signal} % aus dem Bild und zu {noise} % aus Rauschen (√ᾱ = {signalFactor}, √(1−ᾱ) = {noiseFactor}).',
    fwdWaiting: 'Rechne …',
    fwdOriginal: 'Original (x₀)',
    fwdXt: 'Mit Rauschen (x_t)',
    fwdNoise: 'Hinzugefügtes Rauschen (ε)',
    fwdEpsHat: 'Schätzung des Modells (ε̂)',
    fwdX0Hat: 'Daraus rekonstruiert (x̂₀)',
    fwdOriginalAlt: 'Das Originalbild: {label}',
    fwdXtAlt: 'Das Bild mit Rauschen der Stärke t = {t}',
    fwdNoiseAlt: 'Das zufällige Rauschen, das hinzugefügt wurde',
    fwdEpsHatAlt: 'Das Rauschen, das das Modell im verrauschten Bild vermutet',
    fwdX0HatAlt: 'Das Bild, das das Modell aus dem verrauschten Bild zurückgewinnt',
    fwdEmptyAlt: 'Noch nichts berechnet',
    fwdErrorLabel: 'Schätzfehler (mittlere quadratische Abweichung zwischen echtem und geschätztem Rauschen)',
    fwdErrorScale: '0 = perfekt geschätzt; 1 = nicht besser, als gar kein Rauschen zu vermuten. Der Balken ist logarithmisch: 0,001 ganz links, 0,01 bei einem Drittel, 1 ganz rechts.',
    fwdExplain: 'Das Modell lernt, zu schätzen, wie viel und welches Rauschen hinzugefügt wurde. Das Original sieht es dabei nie – nur das verrauschte Bild, die Rauschstärke t und die Beschreibung. Bei kleinem t ist das Rauschen schwach und schwer zu erkennen; bei großem t ist vom Bild fast nichts mehr übrig, und die Rekonstruktion wird zum Raten.',

    compareIntro: 'Gleicher Prompt, gleicher Startwert, gleiches Anfangsrauschen: Der destillierte Schüler macht wenige große Schritte, der Lehrer viele kleine.',
    cmpStepsLabel: 'Schritte für den Lehrer',
    cmpStepsHint: 'Der Schüler nimmt immer seine {steps} Schritte. Lehrer: {min} bis {max}.',
    cmpStepsHintTeacher: 'Von {min} bis {max}.',
    cmpRun: 'Vergleichen',
    cmpStudent: 'Schüler (destilliert)',
    cmpTeacher: 'Lehrer (Original)',
    cmpStepsTerm: 'Schritte',
    cmpPassesTerm: 'Modellaufrufe',
    cmpTimeTerm: 'Zeit',
    cmpPasses: '{passes} ({steps} × {perStep})',
    cmpSeconds: '{seconds} s',
    cmpAlt: '{model}: Bild nach Schritt {step} von {total}',
    cmpAltEmpty: '{model}: noch kein Bild',
    cmpNoStudent: 'Diese Modelldateien enthalten keinen destillierten Schüler – es gibt nichts, womit sich der Lehrer vergleichen ließe. Den Lehrer allein findest du im Reiter „Erzeugen“.',
    cmpSummary: 'Der Schüler brauchte {studentPasses} Modellaufrufe in {studentSeconds} s, der Lehrer {teacherPasses} in {teacherSeconds} s.',
    cmpExplain: 'Ein Modellaufruf ist ein Durchlauf des neuronalen Netzes. Der Lehrer braucht zwei pro Schritt (einmal mit und einmal ohne Prompt – „Classifier-free Guidance“), der Schüler einen: Beim Destillieren hat er gelernt, was der Lehrer in vielen Schritten erreicht, in wenigen nachzumachen.',

    settingIgnored: 'Die Einstellung {name}="{value}" wird ignoriert: {why} Stattdessen gilt {fallback}.',
    fallbackUnchanged: 'der bisherige Wert',
    shareButton: 'Link zu dieser Ansicht',
    shareLinkLabel: 'Link zu dieser Ansicht, zum Kopieren',
    shareCopied: 'Link kopiert. Er öffnet genau diese Ansicht: gleicher Prompt, Startwert, Schritte und gleiches Modell.',
    shareCopyManual: 'Kopiere den markierten Link (Strg+C, am Mac ⌘+C). Er öffnet genau diese Ansicht.',
    whyWhole: 'erlaubt sind ganze Zahlen von {min} bis {max}.',
    whyNumber: 'erlaubt sind Zahlen von {min} bis {max}.',
    whyOneOf: 'erlaubt sind {list}.',
    whyNoStudent: 'diese Modelldateien enthalten keinen destillierten Schüler.',

    errEmptyPrompt: 'Bitte gib einen Prompt ein – zum Beispiel „Hund“ oder „roter Apfel“.',
    errPromptTooLong: 'Der Prompt ist zu lang: {length} Zeichen. Erlaubt sind höchstens {max}.',
    errSteps: 'Die Zahl der Schritte muss eine ganze Zahl von {min} bis {max} sein.',
    errSeed: 'Der Startwert (Seed) muss eine ganze Zahl von 0 bis {max} sein.',
    errGuidance: 'Die Guidance muss eine Zahl von {min} bis {max} sein.',
    errDetail: '{lead} ({detail})',
    errLoad_weights: 'Das Modell konnte nicht geladen werden: Seine Dateien fehlen, sind unvollständig oder beschädigt.',
    errLoad_gpu: 'Das Modell konnte nicht geladen werden: Die Grafikkarte (WebGPU) hat versagt. Ein Neuladen der Seite kann helfen.',
    errLoad_other: 'Das Modell konnte nicht geladen werden.',
    errLoad_stalled: 'Der Download der Modelldateien steckt fest: {seconds} Sekunden lang kam nichts an. Prüfe die Verbindung und versuche es noch einmal.',
    errGenerate_input: 'Das Modell hat diese Eingabe nicht angenommen.',
    errGenerate_weights: 'Die Modelldateien passen nicht zusammen.',
    errGenerate_gpu: 'Die Verbindung zur Grafikkarte (GPU) ist verloren gegangen („device lost“). Beim nächsten Klick wird das Modell neu geladen.',
    errGenerate_busy: 'Das Modell ist noch mit einer anderen Aufgabe beschäftigt. Warte kurz und versuche es dann noch einmal.',
    errGenerate_other: 'Das Bild konnte nicht erzeugt werden.',
    errForward_input: 'Das Modell hat dieses Bild oder diese Einstellung nicht angenommen.',
    errForward_gpu: 'Die Verbindung zur Grafikkarte (GPU) ist verloren gegangen („device lost“). Beim nächsten Versuch wird das Modell neu geladen.',
    errForward_busy: 'Das Modell ist noch mit einer anderen Aufgabe beschäftigt. Warte kurz und versuche es dann noch einmal.',
    errForward_unsupported: 'Diese Version des Modells kann den Vorwärtsprozess noch nicht zeigen.',
    errForward_other: 'Das verrauschte Bild konnte nicht berechnet werden.',
    errExample: 'Das Beispielbild konnte nicht geladen werden.',
    errWorker: 'Der Hintergrundprozess (Web Worker) ist ausgefallen: {message}',
    errWorkerStart: 'Der Hintergrundprozess konnte nicht starten. Fehlen die WebAssembly-Dateien in www/pkg?',
    errWorkerSilent: 'Das Modell antwortet nicht mehr: {seconds} Sekunden lang kam nichts. Der nächste Klick startet es neu.',
    errNoWorker: 'Dieser Browser kann keine Module-Worker starten. Bitte nutze einen aktuellen Browser.',
    creditsTitle: 'Herkunft und Lizenzen',
    creditsImages: 'Trainings- und Beispielbilder: Noto Emoji © Google, Apache License 2.0 (npm-Paket emoji-datasource-google, MIT).',
    creditsCaptions: 'Bildbeschreibungen: Emoji-Namen aus emojibase-data (MIT).',
    creditsText: 'Text-Encoder: all-MiniLM-L6-v2 (sentence-transformers, auf Basis von Microsoft MiniLM), Apache License 2.0; von diesem Projekt verkleinert.',
    creditsModel: 'Entrauschungsmodelle (Lehrer und Schüler): von diesem Projekt trainiert. Alles läuft in deinem Browser; nichts wird hochgeladen.',
  },
  en: {
    tabsLabel: 'What would you like to see?',
    tabReverse: 'Generate (reverse)',
    tabForward: 'Add noise (forward)',
    tabCompare: 'Few or many steps',

    reverseIntro: 'The model starts from pure noise and, guided by your prompt, removes noise step by step until a picture is left: like a sculptor freeing a figure from a block, only the block is noise and the prompt says which figure is inside.',
    promptLabel: 'What should the picture show? (prompt)',
    promptPlaceholder: 'e.g. dog, red apple, smiling sun',
    promptHint: 'A few words in English or German.',
    schedAlt: 'Curves: how much picture and how much noise the noisy picture holds at each t. Marked timesteps: {marks}.',
    schedAltAt: 'Curves: how much picture and how much noise the noisy picture holds at each t. At t = {t}: {signal} % picture, {noise} % noise (factors √ᾱ = {signalFactor}, √(1−ᾱ) = {noiseFactor}). Marked timesteps: {marks}.',
    schedCaptionForward: 'Solid: √ᾱ_t, how much of the picture is in x_t. Dashed: √(1−ᾱ_t), how much noise. The triangles show where the student\'s {student} steps (in colour) and the teacher\'s {teacher} (grey) lie: a few big jumps are enough because every step estimates the finished picture, not just a little noise to take away.',
    schedCaptionForwardTeacher: 'Solid: √ᾱ_t, how much of the picture is in x_t. Dashed: √(1−ᾱ_t), how much noise. The triangles show where the teacher\'s {teacher} steps lie.',
    schedCaptionReverse: 'This run\'s path on the noise schedule: from pure noise (t = 999, right) to the picture (t = 0, left). The triangles are its steps, the line the step you are looking at.',
    detailAlt: 'How far the guess of the finished picture still is from the result after each of the {steps} steps. After step {mid}: coarse shapes {coarse} % of the way still to go, fine details {fine} %.',
    detailCaption: 'Rough outlines first, then colours, then fine details: solid is how far the coarse shapes and colour areas (means over 4 × 4 pixels) of the guess x̂₀ still are from the finished picture after each step, dashed the fine details (the rest). 1 = as far as the starting noise, 0 = arrived. Below: x̂₀ after each step.',
    mathsShow: 'Show the maths',
    mathsForward: 'Forward process q(x_t | x₀): x_t = √ᾱ_t · x₀ + √(1−ᾱ_t) · ε, here at t = {t} with ᾱ_t = {alphaBar}: x_t = {sa} · x₀ + {sn} · ε, ε drawn from a normal distribution. The network sees only x_t, t and the prompt and predicts v̂; from it ε̂ = √(1−ᾱ_t) · x_t + √ᾱ_t · v̂ and the reconstruction x̂₀ = (x_t − √(1−ᾱ_t) · ε̂) / √ᾱ_t. The estimation error is the mean of (ε − ε̂)² over all pixels and colours.',
    mathsReverseStart: 'The reverse process starts from pure noise x_T ~ N(0, 1). Pick a step to see its formula with the numbers.',
    mathsReverse: 'Step {step} of {total}, at t = {t}: the network predicts v̂. {guidance} From it x̂₀ = √ᾱ_t · x_t − √(1−ᾱ_t) · v̂ = {sa} · x_t − {sn} · v̂ and ε̂ = √(1−ᾱ_t) · x_t + √ᾱ_t · v̂. The next point (DDIM): x_t′ = √ᾱ_t′ · x̂₀ + √(1−ᾱ_t′) · ε̂ = {sa2} · x̂₀ + {sn2} · ε̂ at t′ = {tNext}.{dpm}',
    mathsReverseLast: 'Step {step} of {total}, at t = {t}: the network predicts v̂. {guidance} From it x̂₀ = √ᾱ_t · x_t − √(1−ᾱ_t) · v̂ = {sa} · x_t − {sn} · v̂. The last step lands on x̂₀: that is the finished picture.',
    mathsGuidanceTeacher: 'Classifier-free guidance with w = {w}: v̂ = v̂_without + w · (v̂_with − v̂_without), from two calls of the network, with and without the prompt.',
    mathsGuidanceStudent: 'The student has its guidance built in: one call of the network.',
    mathsDpm: ' DPM-Solver++(2M), the teacher\'s sampler, also takes the previous step\'s x̂₀ (second order) and so needs fewer steps.',
    tabExplore: 'Seeds and guidance',
    exploreIntro: 'What does the seed change, and what the guidance? Here the same prompt stands several times side by side.',
    expSeedLabel: 'First seed',
    expSeedHint: 'The seeds count up from here; the guidance row takes this one.',
    expStepsHint: 'For the guidance row, {min} to {max}; the student takes its own.',
    expOtherLabel: 'Second prompt (to blend into)',
    expOtherHint: 'What is blended between the two prompts is their meaning, not the picture.',
    expOtherDefault: 'cat',
    expBlendRun: 'From one prompt to the other',
    expBlendTitle: 'From "{prompt}" to "{other}", seed {seed}',
    expBlendExplain: 'The text encoder turns every prompt into a vector of 384 numbers. Here the first prompt\'s vector is blended step by step into the second\'s, from the same starting noise: so you see what the model draws "between" two meanings.',
    expCellBlend: '{percent} % second prompt',
    expSeedsRun: 'Show {n} seeds',
    expGuidanceRun: 'Compare guidance {list}',
    expSeedsTitle: '"{prompt}" with {n} seeds from {seed}',
    expGuidanceTitle: '"{prompt}" with seed {seed}: the teacher at different guidance, the student beside it',
    expSeedsExplain: 'The seed decides which noise the model starts from. Other noise gives another picture for the same prompt, as different as the model has learnt to make them. Same seed and same prompt: the same picture.',
    expGuidanceExplain: 'Guidance mixes two of the teacher\'s estimates, one with and one without the prompt. At 0 the prompt does not count at all; the larger the value, the more closely the picture follows the prompt, until the colours turn garish. For that the teacher needs two model calls per step. The student learnt one fixed guidance when it was distilled and needs one.',
    expCellSeed: 'Seed {seed}',
    expCellGuidance: 'Guidance {guidance}',
    expCellStudent: 'Student (guidance built in)',
    expCellDone: '{label}: {passes} model calls, {seconds} s',
    expCellWaiting: '{label}: waiting …',
    expCellAlt: '{label}: the picture for "{prompt}"',
    expCellAltEmpty: '{label}: no picture yet',
    statusExploring: 'The pictures are made one after another …',
    statusExploreDone: 'Done: {n} pictures.',
    statusExploreCancelled: 'Cancelled after {done} of {total} pictures.',
    examplesLabel: 'Examples:',
    examplePrompts: 'a dog|a sunflower|draw a frog|a turtle|pizza',
    exampleTitle: 'Make a picture of "{prompt}"',
    modelLabel: 'Model',
    modelStudent: 'Student (distilled, few steps)',
    modelTeacher: 'Teacher (original, many steps)',
    modelHintStudent: 'Learned from the teacher to get there in a few big steps: one model call per step.',
    modelHintTeacher: 'The original model: many small steps, two model calls per step (with and without your prompt, “classifier-free guidance”).',
    seedLabel: 'Seed',
    seedHint: 'The same seed and the same prompt give the same picture.',
    newSeedLabel: 'New seed: pick a random seed and generate again with the same prompt',
    stepsLabel: 'Steps',
    stepsHint: 'How many times the model removes noise ({min} to {max}).',
    guidanceLabel: 'Guidance (how closely to follow the prompt)',
    guidanceHint: 'How strongly the picture follows the prompt: 0 = not at all, {value} = standard, at most {max}.',
    guidanceHintStudent: 'Built into the student: its guidance was “baked in” during distillation, so there is nothing to set here.',
    generate: 'Generate',
    working: 'Working …',
    cancel: 'Cancel',

    timelineLabel: 'The steps of this run',
    scrubLabel: 'Show step',
    play: 'Play the steps as an animation',
    pause: 'Pause the animation',
    reducedMotionHint: 'Your system asks for reduced motion, so nothing plays by itself. Use the slider to go through the steps.',
    exportLabel: 'Save:',
    savePng: 'Picture (PNG, 256 px)',
    saveStrip: 'All steps (PNG strip)',

    statusIdle: 'Ready. The model is loaded on the first click.',
    statusLoading: 'Loading the model …',
    statusLoadingFile: 'Loading the model … ({file})',
    statusReady: 'Model loaded. Computing on {backend}.',
    statusGenerating: 'Denoising step by step …',
    statusStarting: 'Starting from pure noise …',
    statusDone: 'Done: {steps} steps in {seconds} s ({backend}).',
    statusDoneOne: 'Done: 1 step in {seconds} s ({backend}).',
    statusFailed: 'That did not work. The message below explains why.',
    statusCancelled: 'Cancelled after {step} of {total} steps.',
    statusCancelledBefore: 'Cancelled before a step ran. "Generate" starts again (model files already loaded are kept).',
    statusSaved: 'Saved as {file}.',
    statusComparing: 'Comparing: first the student, then the teacher …',
    statusCompareDone: 'Comparison done.',

    progressMb: '{loaded} / {total} MB',
    progressLabel: 'Downloading the model files',

    backendWebgpu: 'WebGPU on the graphics card ({adapter})',
    backendWebgpuNoName: 'WebGPU on the graphics card',
    backendWebgpuSoftware: 'WebGPU emulated in software on the processor (no graphics card found, so it is slow)',
    backendCpu: 'the processor (CPU, WebAssembly)',
    backendShortWebgpu: 'WebGPU',
    backendShortCpu: 'CPU',
    cpuNotice: 'WebGPU is not available here, so the picture is computed on the slower path through the processor (CPU). It works, it just takes longer.',
    cpuNoticeReason: 'Reason: {reason}',
    cacheNoticeFull: 'Could not keep the model files for offline use: the browser’s storage is full. Everything works, but the next visit downloads them again.',
    cacheNotice: 'Could not keep the model files for offline use ({reason}). Everything works, but the next visit downloads them again.',

    mainCaption: 'The picture after this step (x_t)',
    mainAlt: 'Current picture after step {step} of {total}',
    mainAltStart: 'Pure noise: the picture the run starts from',
    mainAltEmpty: 'No picture yet. Press “Generate” to start.',
    epsCaption: 'Predicted noise (ε̂)',
    epsAlt: 'The noise the model believes is in the picture at this step',
    x0Caption: 'Predicted final picture (x̂₀)',
    x0Alt: 'What the model thinks the finished picture looks like at this step',
    noEstimateAlt: 'Empty: before the first step the model has not estimated anything yet',
    stepCounter: 'Step {step} / {total}',
    stepCounterStart: 'Start: pure noise (step 0 / {total})',
    stepCounterEmpty: 'Step – / –',
    stepTime: 'This step: {ms} ms',
    stepTimestep: 'Timestep t = {t}',
    stepTimestepStart: 'No step computed yet',
    explain: 'On the left you see the picture after every step. On the right: what the model currently takes for noise, and the finished picture it guesses from that. Rough outlines appear first, then colours, then details.',

    forwardIntro: 'Training works the other way round: take a real picture, mix noise into it, and ask the model which noise was added.',
    fwdSourceLabel: 'Picture',
    fwdSourceHint: 'An example from the training data, or the last picture you generated.',
    fwdSourceLast: 'The last picture you generated',
    fwdSourceLastNone: 'The last picture you generated (none yet)',
    fwdSourceExample: 'Example: {label}',
    fwdNoSource: 'There are no example pictures here. Generate a picture first (tab “Generate”), then you can add noise to it here.',
    fwdPromptLabel: 'What the picture shows (told to the model)',
    fwdPromptHint: 'Leave it empty to see how well the model estimates without a description.',
    fwdTLabel: 'Noise level t',
    fwdTHint: '0 = almost no noise, 999 = nothing but noise.',
    fwdTValue: 't = {t} of 999',
    fwdSeedLabel: 'Seed of the noise',
    fwdNewNoise: 'New noise: pick a random seed',
    fwdMix: 't = {t}: the noisy picture is {signal} % picture and {noise} % noise (√ᾱ = {signalFactor}, √(1−ᾱ) = {noiseFactor}).',
    fwdWaiting: 'Computing …',
    fwdOriginal: 'Original (x₀)',
    fwdXt: 'With noise (x_t)',
    fwdNoise: 'The noise added (ε)',
    fwdEpsHat: 'The model’s estimate (ε̂)',
    fwdX0Hat: 'Reconstructed from it (x̂₀)',
    fwdOriginalAlt: 'The original picture: {label}',
    fwdXtAlt: 'The picture with noise of level t = {t}',
    fwdNoiseAlt: 'The random noise that was added',
    fwdEpsHatAlt: 'The noise the model believes is in the noisy picture',
    fwdX0HatAlt: 'The picture the model recovers from the noisy one',
    fwdEmptyAlt: 'Nothing computed yet',
    fwdErrorLabel: 'Estimation error (mean squared difference between the true and the estimated noise)',
    fwdErrorScale: '0 = a perfect estimate; 1 = no better than guessing “no noise at all”. The bar is logarithmic: 0.001 at the left end, 0.01 at one third, 1 at the right end.',
    fwdExplain: 'The model learns to estimate how much noise was added, and which. It never sees the original: only the noisy picture, the noise level t and the description. At small t the noise is faint and hard to spot; at large t almost nothing of the picture is left, and the reconstruction becomes a guess.',

    compareIntro: 'Same prompt, same seed, same starting noise: the distilled student takes a few big steps, the teacher many small ones.',
    cmpStepsLabel: 'Steps for the teacher',
    cmpStepsHint: 'The student always takes its {steps} steps. Teacher: {min} to {max}.',
    cmpStepsHintTeacher: 'From {min} to {max}.',
    cmpRun: 'Compare',
    cmpStudent: 'Student (distilled)',
    cmpTeacher: 'Teacher (original)',
    cmpStepsTerm: 'Steps',
    cmpPassesTerm: 'Model calls',
    cmpTimeTerm: 'Time',
    cmpPasses: '{passes} ({steps} × {perStep})',
    cmpSeconds: '{seconds} s',
    cmpAlt: '{model}: picture after step {step} of {total}',
    cmpAltEmpty: '{model}: no picture yet',
    cmpNoStudent: 'These model files contain no distilled student, so there is nothing to compare the teacher with. The teacher alone is in the “Generate” tab.',
    cmpSummary: 'The student needed {studentPasses} model calls in {studentSeconds} s, the teacher {teacherPasses} in {teacherSeconds} s.',
    cmpExplain: 'A model call is one run of the neural network. The teacher needs two per step (once with and once without your prompt: “classifier-free guidance”), the student one: during distillation it learned to do in a few steps what the teacher does in many.',

    settingIgnored: 'The setting {name}="{value}" is ignored: {why} Using {fallback} instead.',
    fallbackUnchanged: 'the value it had',
    shareButton: 'Link to this view',
    shareLinkLabel: 'Link to this view, to copy',
    shareCopied: 'Link copied. It opens exactly this view: the same prompt, seed, steps and model.',
    shareCopyManual: 'Copy the selected link (Ctrl+C, on a Mac ⌘+C). It opens exactly this view.',
    whyWhole: 'it must be a whole number from {min} to {max}.',
    whyNumber: 'it must be a number from {min} to {max}.',
    whyOneOf: 'allowed are {list}.',
    whyNoStudent: 'these model files contain no distilled student.',

    errEmptyPrompt: 'Please enter a prompt, for example “dog” or “red apple”.',
    errPromptTooLong: 'The prompt is too long: {length} characters. At most {max} are allowed.',
    errSteps: 'The number of steps must be a whole number from {min} to {max}.',
    errSeed: 'The seed must be a whole number from 0 to {max}.',
    errGuidance: 'The guidance must be a number from {min} to {max}.',
    errDetail: '{lead} ({detail})',
    errLoad_weights: 'The model could not be loaded: its files are missing, incomplete or damaged.',
    errLoad_gpu: 'The model could not be loaded: the graphics card (WebGPU) failed. Reloading the page may help.',
    errLoad_other: 'The model could not be loaded.',
    errLoad_stalled: 'The download of the model files is stuck: nothing arrived for {seconds} seconds. Check the connection and try again.',
    errGenerate_input: 'The model did not accept this input.',
    errGenerate_weights: 'The model files do not fit together.',
    errGenerate_gpu: 'The connection to the graphics card (GPU) was lost (“device lost”). The next click loads the model again.',
    errGenerate_busy: 'The model is still busy with another job. Wait a moment, then try again.',
    errGenerate_other: 'The picture could not be generated.',
    errForward_input: 'The model did not accept this picture or setting.',
    errForward_gpu: 'The connection to the graphics card (GPU) was lost (“device lost”). The next try loads the model again.',
    errForward_busy: 'The model is still busy with another job. Wait a moment, then try again.',
    errForward_unsupported: 'This version of the model cannot show the forward process yet.',
    errForward_other: 'The noisy picture could not be computed.',
    errExample: 'The example picture could not be loaded.',
    errWorker: 'The background process (Web Worker) failed: {message}',
    errWorkerStart: 'The background process could not start. Are the WebAssembly files in www/pkg missing?',
    errWorkerSilent: 'The model stopped answering: nothing came for {seconds} seconds. The next click starts it again.',
    errNoWorker: 'This browser cannot start module workers. Please use a current browser.',
    creditsTitle: 'Credits and licences',
    creditsImages: 'Training and example images: Noto Emoji © Google, Apache License 2.0 (npm package emoji-datasource-google, MIT).',
    creditsCaptions: 'Picture captions: emoji names from emojibase-data (MIT).',
    creditsText: 'Text encoder: all-MiniLM-L6-v2 (sentence-transformers, based on Microsoft MiniLM), Apache License 2.0; reduced by this project.',
    creditsModel: 'Denoisers (teacher and student): trained by this project. Everything runs in your browser; nothing is uploaded.',
  },
};

export const LANGS = Object.keys(messages);

/** "de-AT" → "de", anything unknown → "en". */
export function pickLang(value) {
  const short = String(value || '').toLowerCase().split(/[-_]/)[0];
  return LANGS.includes(short) ? short : 'en';
}

/** Looks up `key` in `lang` (falling back to English) and fills `{name}` placeholders. */
export function format(lang, key, params = {}) {
  const table = messages[lang] ?? messages.en;
  const template = table[key] ?? messages.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * Keeps localized texts on elements so that a language switch can redo them all:
 *   loc.text(el, key, params)        el.textContent
 *   loc.attr(el, name, key, params)  an attribute (aria-label, aria-valuetext, title, ...)
 *   loc.clear(el)                    forget el's text (and empty it)
 *   loc.forget(...els)               drop elements that are being removed (replaced options)
 *   loc.render()                     apply every remembered text in the current language
 */
export class Localizer {
  constructor(lang) {
    this.lang = lang;             // () => "de" | "en"
    this.bindings = new Map();    // element -> {text: [key, params] | null, attrs: Map(name -> [key, params])}
  }

  t(key, params) {
    return format(this.lang(), key, params);
  }

  binding(el) {
    let b = this.bindings.get(el);
    if (!b) {
      b = { text: null, attrs: new Map() };
      this.bindings.set(el, b);
    }
    return b;
  }

  text(el, key, params = {}) {
    this.binding(el).text = key ? [key, params] : null;
    el.textContent = key ? this.t(key, params) : '';
  }

  attr(el, name, key, params = {}) {
    const b = this.binding(el);
    if (key) {
      b.attrs.set(name, [key, params]);
      el.setAttribute(name, this.t(key, params));
    } else {
      b.attrs.delete(name);
      el.removeAttribute(name);
    }
  }

  clear(el) {
    this.text(el, null);
  }

  forget(...elements) {
    for (const el of elements) this.bindings.delete(el);
  }

  render() {
    for (const [el, b] of this.bindings) {
      if (b.text) el.textContent = this.t(b.text[0], b.text[1]);
      for (const [name, [key, params]] of b.attrs) el.setAttribute(name, this.t(key, params));
    }
  }
}
