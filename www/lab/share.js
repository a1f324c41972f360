// "Link to this view": a URL of embed.html (or the page named by `share-url`) whose parameters
// are the element's attributes as the learner has set them now, so that the link opens the same
// view with the same prompt, seed, steps, model and noise level.

const DEFAULT_PAGE = new URL('../embed.html', import.meta.url).href;

/** The link for `view` ({name: value | null}, in attribute names) on `page`. */
export function viewUrl(page, lang, view) {
  const url = new URL(page);
  url.search = '';
  url.hash = '';
  url.searchParams.set('lang', lang);
  for (const [name, value] of Object.entries(view)) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  return url.href;
}

export class ShareLink {
  constructor(host) {
    this.host = host;
    this.el = { button: host.$('share-button'), link: host.$('share-link'), status: host.$('share-status') };
    this.el.button.addEventListener('click', () => this.share());
  }

  page() {
    const attr = this.host.getAttribute('share-url');
    if (attr) {
      try {
        const url = new URL(attr, document.baseURI);
        if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
      } catch {
        // not a URL: the widget's own page
      }
    }
    return DEFAULT_PAGE;
  }

  url() {
    return viewUrl(this.page(), this.host.language, this.host.viewState());
  }

  /** Shows the link, selected, and copies it where the page may use the clipboard. */
  async share() {
    const { link, status } = this.el;
    const href = this.url();
    link.value = href;
    link.hidden = false;
    link.focus();
    link.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(href);
      copied = true;
    } catch {
      // no clipboard in this frame (no secure context, or the course page does not allow it)
    }
    this.host.loc.text(status, copied ? 'shareCopied' : 'shareCopyManual');
    this.host.emit('share', { url: href, copied });
    return href;
  }
}
