// Every string the <diffusion-lab> element shows, in German and English, written for learners.
// `{name}` placeholders are filled in by `format()`.

export const messages = {
  de: {
    promptLabel: 'Was soll das Bild zeigen? (Prompt)',
    promptPlaceholder: 'z. B. Hund, roter Apfel, lachende Sonne',
    promptHint: 'Ein paar Wörter auf Deutsch oder Englisch.',
    seedLabel: 'Startwert (Seed)',
    seedHint: 'Gleicher Startwert und gleicher Prompt ergeben dasselbe Bild.',
    randomSeed: 'Zufälliger Startwert',
    stepsLabel: 'Schritte',
    stepsHint: 'Wie oft das Modell Rauschen entfernt (1 bis 100).',
    generate: 'Bild erzeugen',
    working: 'Läuft …',

    statusIdle: 'Bereit. Das Modell wird beim ersten Klick geladen.',
    statusLoading: 'Lade das Modell …',
    statusLoadingFile: 'Lade das Modell … ({file})',
    statusReady: 'Modell geladen. Gerechnet wird mit {backend}.',
    statusGenerating: 'Entrausche Schritt für Schritt …',
    statusStarting: 'Starte mit reinem Rauschen …',
    statusDone: 'Fertig: {steps} Schritte in {seconds} s ({backend}).',
    statusFailed: 'Das hat nicht geklappt. Die Meldung darunter erklärt, warum.',

    progressMb: '{loaded} / {total} MB',
    progressLabel: 'Download der Modelldateien',

    backendWebgpu: 'WebGPU auf der Grafikkarte ({adapter})',
    backendWebgpuNoName: 'WebGPU auf der Grafikkarte',
    backendCpu: 'dem Prozessor (CPU, WebAssembly)',
    backendShortWebgpu: 'WebGPU',
    backendShortCpu: 'CPU',
    cpuNotice: 'WebGPU ist hier nicht verfügbar. Das Bild wird deshalb auf dem langsameren Weg über den Prozessor (CPU) berechnet – das funktioniert, dauert aber länger.',
    cpuNoticeReason: 'Grund: {reason}',

    mainCaption: 'Das Bild nach diesem Schritt (x_t)',
    mainAlt: 'Aktuelles Bild nach Schritt {step} von {total}',
    mainAltEmpty: 'Noch kein Bild. Starte mit „Bild erzeugen“.',
    epsCaption: 'Geschätztes Rauschen (ε̂)',
    epsAlt: 'Das Rauschen, das das Modell in diesem Schritt im Bild vermutet',
    x0Caption: 'Vorhersage des fertigen Bildes (x̂₀)',
    x0Alt: 'Wie das fertige Bild nach Meinung des Modells in diesem Schritt aussieht',
    stepCounter: 'Schritt {step} / {total}',
    stepCounterEmpty: 'Schritt – / –',
    stepTime: 'Dieser Schritt: {ms} ms',
    stepTimestep: 'Zeitpunkt t = {t}',
    explain: 'Links siehst du das Bild nach jedem Schritt. Rechts: was das Modell gerade für Rauschen hält und welches fertige Bild es daraus errät. Zuerst entstehen grobe Umrisse, dann Farben, zuletzt Details.',

    errEmptyPrompt: 'Bitte gib einen Prompt ein – zum Beispiel „Hund“ oder „roter Apfel“.',
    errPromptTooLong: 'Der Prompt ist zu lang: {length} Zeichen. Erlaubt sind höchstens {max}.',
    errSteps: 'Die Zahl der Schritte muss eine ganze Zahl von {min} bis {max} sein.',
    errSeed: 'Der Startwert (Seed) muss eine ganze Zahl von 0 bis {max} sein.',
    errLoad: 'Das Modell konnte nicht geladen werden: {message}',
    errGenerate: 'Das Bild konnte nicht erzeugt werden: {message}',
    errWorker: 'Der Hintergrundprozess (Web Worker) ist ausgefallen: {message}',
    errWorkerStart: 'Der Hintergrundprozess konnte nicht starten. Fehlen die WebAssembly-Dateien in www/pkg?',
    errNoWorker: 'Dieser Browser kann keine Module-Worker starten. Bitte nutze einen aktuellen Browser.',
  },
  en: {
    promptLabel: 'What should the picture show? (prompt)',
    promptPlaceholder: 'e.g. dog, red apple, smiling sun',
    promptHint: 'A few words in English or German.',
    seedLabel: 'Seed',
    seedHint: 'The same seed and the same prompt give the same picture.',
    randomSeed: 'Random seed',
    stepsLabel: 'Steps',
    stepsHint: 'How many times the model removes noise (1 to 100).',
    generate: 'Generate',
    working: 'Working …',

    statusIdle: 'Ready. The model is loaded on the first click.',
    statusLoading: 'Loading the model …',
    statusLoadingFile: 'Loading the model … ({file})',
    statusReady: 'Model loaded. Computing on {backend}.',
    statusGenerating: 'Denoising step by step …',
    statusStarting: 'Starting from pure noise …',
    statusDone: 'Done: {steps} steps in {seconds} s ({backend}).',
    statusFailed: 'That did not work. The message below explains why.',

    progressMb: '{loaded} / {total} MB',
    progressLabel: 'Downloading the model files',

    backendWebgpu: 'WebGPU on the graphics card ({adapter})',
    backendWebgpuNoName: 'WebGPU on the graphics card',
    backendCpu: 'the processor (CPU, WebAssembly)',
    backendShortWebgpu: 'WebGPU',
    backendShortCpu: 'CPU',
    cpuNotice: 'WebGPU is not available here, so the picture is computed on the slower path through the processor (CPU). It works, it just takes longer.',
    cpuNoticeReason: 'Reason: {reason}',

    mainCaption: 'The picture after this step (x_t)',
    mainAlt: 'Current picture after step {step} of {total}',
    mainAltEmpty: 'No picture yet. Press “Generate” to start.',
    epsCaption: 'Predicted noise (ε̂)',
    epsAlt: 'The noise the model believes is in the picture at this step',
    x0Caption: 'Predicted final picture (x̂₀)',
    x0Alt: 'What the model thinks the finished picture looks like at this step',
    stepCounter: 'Step {step} / {total}',
    stepCounterEmpty: 'Step – / –',
    stepTime: 'This step: {ms} ms',
    stepTimestep: 'Timestep t = {t}',
    explain: 'On the left you see the picture after every step. On the right: what the model currently takes for noise, and the finished picture it guesses from that. Rough outlines appear first, then colours, then details.',

    errEmptyPrompt: 'Please enter a prompt, for example “dog” or “red apple”.',
    errPromptTooLong: 'The prompt is too long: {length} characters. At most {max} are allowed.',
    errSteps: 'The number of steps must be a whole number from {min} to {max}.',
    errSeed: 'The seed must be a whole number from 0 to {max}.',
    errLoad: 'The model could not be loaded: {message}',
    errGenerate: 'The picture could not be generated: {message}',
    errWorker: 'The background process (Web Worker) failed: {message}',
    errWorkerStart: 'The background process could not start. Are the WebAssembly files in www/pkg missing?',
    errNoWorker: 'This browser cannot start module workers. Please use a current browser.',
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
