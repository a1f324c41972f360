// The shadow DOM of the <diffusion-lab> element. Texts come from ../i18n.js:
//   data-i18n="key"              the element's text
//   data-i18n-placeholder="key"  its placeholder
//   data-i18n-label="key"        its aria-label and title (icon buttons)
//   data-i18n-aria="key"         its aria-label only

const DICE = `<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24">
  <rect x="3" y="3" width="18" height="18" rx="4" fill="none" stroke="currentColor" stroke-width="2"/>
  <circle cx="8" cy="8" r="1.7" fill="currentColor"/><circle cx="16" cy="8" r="1.7" fill="currentColor"/>
  <circle cx="12" cy="12" r="1.7" fill="currentColor"/>
  <circle cx="8" cy="16" r="1.7" fill="currentColor"/><circle cx="16" cy="16" r="1.7" fill="currentColor"/>
</svg>`;

const PLAY = `<svg id="icon-play" aria-hidden="true" focusable="false" width="22" height="22" viewBox="0 0 24 24">
  <path d="M7 4.5v15l12.5-7.5z" fill="currentColor"/></svg>
<svg id="icon-pause" hidden aria-hidden="true" focusable="false" width="22" height="22" viewBox="0 0 24 24">
  <rect x="5.5" y="4.5" width="4.5" height="15" fill="currentColor"/><rect x="14" y="4.5" width="4.5" height="15" fill="currentColor"/></svg>`;

const column = (who) => `
  <section class="cmp-col" aria-labelledby="cmp-${who}-h">
    <h3 id="cmp-${who}-h" data-i18n="cmp${who === 'student' ? 'Student' : 'Teacher'}"></h3>
    <canvas id="cmp-${who}-canvas" class="big" width="32" height="32" role="img"></canvas>
    <div class="strip" id="cmp-${who}-strip" aria-hidden="true"></div>
    <dl>
      <dt data-i18n="cmpStepsTerm"></dt><dd id="cmp-${who}-steps">–</dd>
      <dt data-i18n="cmpPassesTerm"></dt><dd id="cmp-${who}-passes">–</dd>
      <dt data-i18n="cmpTimeTerm"></dt><dd id="cmp-${who}-time">–</dd>
    </dl>
  </section>`;

export const HTML = `
<div class="lab" part="container">
  <div class="tabs" role="tablist" id="tabs" data-i18n-aria="tabsLabel">
    <button type="button" role="tab" id="tab-reverse" data-mode="reverse" aria-controls="panel-reverse" data-i18n="tabReverse"></button>
    <button type="button" role="tab" id="tab-forward" data-mode="forward" aria-controls="panel-forward" data-i18n="tabForward"></button>
    <button type="button" role="tab" id="tab-compare" data-mode="compare" aria-controls="panel-compare" data-i18n="tabCompare"></button>
    <button type="button" role="tab" id="tab-explore" data-mode="explore" aria-controls="panel-explore" data-i18n="tabExplore"></button>
  </div>
  <div class="progress" id="progress" hidden>
    <progress id="progress-bar" data-i18n-label="progressLabel"></progress>
    <span class="mb" id="progress-text" aria-hidden="true"></span>
  </div>
  <p class="notice" id="notice" hidden></p>
  <button type="button" id="use-webgpu" class="secondary" hidden data-i18n="useWebgpu"></button>
  <p class="notice" id="cache-notice" hidden></p>
  <p class="notice" id="settings" hidden></p>

  <section role="tabpanel" id="panel-reverse" aria-labelledby="tab-reverse">
    <p class="intro" data-i18n="reverseIntro"></p>
    <form id="form" novalidate part="form">
      <div class="field wide">
        <label for="prompt" data-i18n="promptLabel"></label>
        <input id="prompt" name="prompt" type="text" autocomplete="off" dir="auto"
               aria-describedby="prompt-hint" data-i18n-placeholder="promptPlaceholder">
        <p class="hint" id="prompt-hint" data-i18n="promptHint"></p>
        <div class="examples" id="examples" role="group" aria-labelledby="examples-label" hidden>
          <span class="label" id="examples-label" data-i18n="examplesLabel"></span>
        </div>
      </div>
      <div class="field">
        <label for="model" data-i18n="modelLabel"></label>
        <select id="model" name="model" aria-describedby="model-hint">
          <option value="student" data-i18n="modelStudent"></option>
          <option value="teacher" data-i18n="modelTeacher"></option>
        </select>
        <p class="hint" id="model-hint"></p>
      </div>
      <div class="field">
        <label for="steps" data-i18n="stepsLabel"></label>
        <input id="steps" name="steps" type="number" inputmode="numeric" step="1"
               aria-describedby="steps-hint">
        <p class="hint" id="steps-hint"></p>
      </div>
      <div class="field">
        <label for="seed" data-i18n="seedLabel"></label>
        <div class="with-button">
          <input id="seed" name="seed" type="number" inputmode="numeric" min="0" step="1"
                 aria-describedby="seed-hint">
          <button type="button" id="dice" data-i18n-label="newSeedLabel">${DICE}</button>
        </div>
        <p class="hint" id="seed-hint" data-i18n="seedHint"></p>
      </div>
      <div class="field">
        <label for="guidance" data-i18n="guidanceLabel"></label>
        <input id="guidance" name="guidance" type="number" inputmode="decimal" step="0.5"
               aria-describedby="guidance-hint">
        <p class="hint" id="guidance-hint"></p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" id="generate" part="button"></button>
        <button type="button" class="secondary" id="cancel" disabled data-i18n="cancel"></button>
      </div>
    </form>
    <div class="slot" data-slot="reverse"></div>
    <div class="timeline" id="timeline" role="group" data-i18n-aria="timelineLabel">
      <div class="scrubrow">
        <button type="button" id="play" aria-pressed="false" disabled data-i18n-label="play">${PLAY}</button>
        <div class="scrub">
          <label for="scrubber" data-i18n="scrubLabel"></label>
          <input type="range" id="scrubber" min="0" max="0" value="0" step="1" disabled>
        </div>
      </div>
      <p class="hint" id="play-hint" hidden data-i18n="reducedMotionHint"></p>
      <div class="strip" id="strip" aria-hidden="true"></div>
      <figure class="schedule" id="rev-schedule" hidden>
        <svg aria-hidden="false"></svg>
        <figcaption id="rev-schedule-caption"></figcaption>
      </figure>
      <figure class="schedule detail" id="rev-detail" hidden>
        <svg></svg>
        <div class="detail-thumbs" aria-hidden="true"></div>
        <figcaption data-i18n="detailCaption"></figcaption>
      </figure>
    </div>
    <div class="views" id="views">
      <figure class="main">
        <canvas id="xt" width="32" height="32" role="img" part="canvas"></canvas>
        <figcaption data-i18n="mainCaption"></figcaption>
      </figure>
      <div class="side">
        <figure>
          <canvas id="eps" width="32" height="32" role="img"></canvas>
          <figcaption data-i18n="epsCaption"></figcaption>
        </figure>
        <figure>
          <canvas id="x0" width="32" height="32" role="img"></canvas>
          <figcaption data-i18n="x0Caption"></figcaption>
        </figure>
        <p class="stepinfo">
          <span class="counter" id="counter"></span>
          <span id="timestep"></span>
          <span id="steptime"></span>
        </p>
        <p class="explain" data-i18n="explain"></p>
        <details class="maths">
          <summary data-i18n="mathsShow"></summary>
          <p id="rev-maths"></p>
        </details>
      </div>
    </div>
    <div class="export" role="group" aria-labelledby="export-label">
      <span class="label" id="export-label" data-i18n="exportLabel"></span>
      <button type="button" id="save-png" disabled data-i18n="savePng"></button>
      <button type="button" id="save-strip" disabled data-i18n="saveStrip"></button>
    </div>
  </section>

  <section role="tabpanel" id="panel-forward" aria-labelledby="tab-forward" hidden>
    <p class="intro" data-i18n="forwardIntro"></p>
    <form id="fwd-form" novalidate>
      <div class="field">
        <label for="fwd-source" data-i18n="fwdSourceLabel"></label>
        <select id="fwd-source" name="source" aria-describedby="fwd-source-hint"></select>
        <p class="hint" id="fwd-source-hint" data-i18n="fwdSourceHint"></p>
      </div>
      <div class="field">
        <label for="fwd-prompt" data-i18n="fwdPromptLabel"></label>
        <input id="fwd-prompt" name="prompt" type="text" autocomplete="off" dir="auto" aria-describedby="fwd-prompt-hint">
        <p class="hint" id="fwd-prompt-hint" data-i18n="fwdPromptHint"></p>
      </div>
      <div class="field wide">
        <label for="fwd-t" data-i18n="fwdTLabel"></label>
        <input id="fwd-t" name="t" type="range" min="0" max="999" step="1" value="500" aria-describedby="fwd-t-hint">
        <p class="hint" id="fwd-t-hint"></p>
        <figure class="schedule" id="fwd-schedule" hidden>
          <svg></svg>
          <figcaption id="fwd-schedule-caption"></figcaption>
        </figure>
      </div>
      <div class="field">
        <label for="fwd-seed" data-i18n="fwdSeedLabel"></label>
        <div class="with-button">
          <input id="fwd-seed" name="seed" type="number" inputmode="numeric" min="0" step="1" value="1">
          <button type="button" id="fwd-newnoise" data-i18n-label="fwdNewNoise">${DICE}</button>
        </div>
      </div>
    </form>
    <p class="notice" id="fwd-nosource" hidden data-i18n="fwdNoSource"></p>
    <div class="paint" id="fwd-own" hidden role="group" aria-labelledby="paint-h">
      <h3 id="paint-h" data-i18n="paintHeading"></h3>
      <p class="hint" id="paint-hint" data-i18n="paintHint"></p>
      <div class="paint-row">
        <div class="paint-pad">
          <canvas id="paint-canvas" width="32" height="32" tabindex="0" role="img"
                  data-i18n-aria="paintCanvasLabel" aria-describedby="paint-keys"></canvas>
          <div class="paint-cursor" id="paint-cursor" hidden aria-hidden="true"></div>
        </div>
        <div class="paint-tools">
          <div class="swatches" id="paint-colours" role="group" data-i18n-aria="paintColours"></div>
          <label for="paint-brush" data-i18n="paintBrush"></label>
          <select id="paint-brush">
            <option value="1" data-i18n="paintBrushSmall"></option>
            <option value="2" data-i18n="paintBrushMedium"></option>
            <option value="4" data-i18n="paintBrushLarge"></option>
          </select>
          <div class="paint-buttons">
            <button type="button" id="paint-undo" data-i18n="paintUndo"></button>
            <button type="button" id="paint-clear" data-i18n="paintClear"></button>
            <button type="button" id="paint-copy" data-i18n="paintCopy" disabled></button>
          </div>
          <label class="file-button" for="paint-file" data-i18n="paintLoad"></label>
          <input type="file" id="paint-file" accept="image/*" class="visually-hidden">
        </div>
      </div>
      <p class="hint" id="paint-keys" data-i18n="paintKeys"></p>
      <p class="notice" id="paint-error" role="alert" hidden></p>
    </div>
    <div class="slot" data-slot="forward"></div>
    <p class="fwd-mix" id="fwd-mix" aria-live="polite"></p>
    <details class="maths">
      <summary data-i18n="mathsShow"></summary>
      <p id="fwd-maths"></p>
    </details>
    <div class="fwd-views">
      <figure><canvas id="fwd-x0" width="32" height="32" role="img"></canvas><figcaption data-i18n="fwdOriginal"></figcaption></figure>
      <figure><canvas id="fwd-xt" width="32" height="32" role="img"></canvas><figcaption data-i18n="fwdXt"></figcaption></figure>
      <figure><canvas id="fwd-noise" width="32" height="32" role="img"></canvas><figcaption data-i18n="fwdNoise"></figcaption></figure>
      <figure><canvas id="fwd-epshat" width="32" height="32" role="img"></canvas><figcaption data-i18n="fwdEpsHat"></figcaption></figure>
      <figure><canvas id="fwd-x0hat" width="32" height="32" role="img"></canvas><figcaption data-i18n="fwdX0Hat"></figcaption></figure>
    </div>
    <div class="meter">
      <label for="fwd-meter" data-i18n="fwdErrorLabel"></label>
      <div class="meter-row">
        <output id="fwd-error-out" for="fwd-t">–</output>
        <meter id="fwd-meter" min="0" max="1" low="0.5" high="0.8" optimum="0" value="0"></meter>
      </div>
      <p class="hint" data-i18n="fwdErrorScale"></p>
    </div>
    <p class="explain" data-i18n="fwdExplain"></p>
  </section>

  <section role="tabpanel" id="panel-compare" aria-labelledby="tab-compare" hidden>
    <p class="intro" data-i18n="compareIntro"></p>
    <form id="cmp-form" novalidate>
      <div class="field wide">
        <label for="cmp-prompt" data-i18n="promptLabel"></label>
        <input id="cmp-prompt" name="prompt" type="text" autocomplete="off" dir="auto">
      </div>
      <div class="field">
        <label for="cmp-seed" data-i18n="seedLabel"></label>
        <input id="cmp-seed" name="seed" type="number" inputmode="numeric" min="0" step="1">
      </div>
      <div class="field">
        <label for="cmp-steps" data-i18n="cmpStepsLabel"></label>
        <input id="cmp-steps" name="steps" type="number" inputmode="numeric" step="1"
               aria-describedby="cmp-steps-hint">
        <p class="hint" id="cmp-steps-hint"></p>
      </div>
      <div class="actions">
        <button type="submit" class="primary" id="cmp-run"></button>
        <button type="button" class="secondary" id="cmp-cancel" disabled data-i18n="cancel"></button>
      </div>
    </form>
    <p class="notice" id="cmp-nostudent" hidden data-i18n="cmpNoStudent"></p>
    <div class="slot" data-slot="compare"></div>
    <div class="cmp-cols">${column('student')}${column('teacher')}</div>
    <p class="summary" id="cmp-summary"></p>
    <p class="explain" data-i18n="cmpExplain"></p>
  </section>

  <section role="tabpanel" id="panel-explore" aria-labelledby="tab-explore" hidden>
    <p class="intro" data-i18n="exploreIntro"></p>
    <form id="exp-form" novalidate>
      <div class="field wide">
        <label for="exp-prompt" data-i18n="promptLabel"></label>
        <input id="exp-prompt" name="prompt" type="text" autocomplete="off" dir="auto">
      </div>
      <div class="field wide">
        <label for="exp-other" data-i18n="expOtherLabel"></label>
        <input id="exp-other" name="other" type="text" autocomplete="off" dir="auto" aria-describedby="exp-other-hint">
        <p class="hint" id="exp-other-hint" data-i18n="expOtherHint"></p>
      </div>
      <div class="field">
        <label for="exp-seed" data-i18n="expSeedLabel"></label>
        <input id="exp-seed" name="seed" type="number" inputmode="numeric" min="0" step="1" aria-describedby="exp-seed-hint">
        <p class="hint" id="exp-seed-hint" data-i18n="expSeedHint"></p>
      </div>
      <div class="field">
        <label for="exp-steps" data-i18n="cmpStepsLabel"></label>
        <input id="exp-steps" name="steps" type="number" inputmode="numeric" step="1" aria-describedby="exp-steps-hint">
        <p class="hint" id="exp-steps-hint"></p>
      </div>
      <div class="actions">
        <button type="button" class="primary" id="exp-seeds"></button>
        <button type="button" class="primary" id="exp-guidance"></button>
        <button type="button" class="primary" id="exp-blend"></button>
        <button type="button" class="secondary" id="exp-cancel" disabled data-i18n="cancel"></button>
      </div>
    </form>
    <div class="slot" data-slot="explore"></div>
    <h3 class="exp-title" id="exp-title" hidden></h3>
    <div class="exp-grid" id="exp-grid" role="list"></div>
    <p class="explain" id="exp-explain"></p>
  </section>

  <div class="messages" id="messages">
    <p class="status" id="status" role="status" aria-live="polite"></p>
    <p class="alert" id="alert" role="alert" part="alert"></p>
  </div>
  <div class="share" role="group" aria-labelledby="share-button">
    <button type="button" id="share-button" class="secondary" data-i18n="shareButton"></button>
    <input id="share-link" type="text" readonly hidden data-i18n-aria="shareLinkLabel">
    <span class="hint" id="share-status" role="status" aria-live="polite"></span>
  </div>
  <details class="credits" part="credits">
    <summary data-i18n="creditsTitle"></summary>
    <ul>
      <li data-i18n="creditsImages"></li>
      <li data-i18n="creditsCaptions"></li>
      <li data-i18n="creditsText"></li>
      <li data-i18n="creditsModel"></li>
    </ul>
  </details>
</div>
`;
