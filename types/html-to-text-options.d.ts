// The options of html-to-text 10 that domain/html-text.ts sets, and `compile` (the options
// composed once, not on every call), beside the one function declared in html-to-text.d.ts.
declare module 'html-to-text' {
  interface HtmlToTextOptions {
    wordwrap?: number | false;
    selectors?: unknown[];
    limits?: { ellipsis?: string; maxBaseElements?: number; maxChildNodes?: number; maxDepth?: number; maxInputLength?: number };
  }
  export function convert(html: string, options?: HtmlToTextOptions): string;
  export function compile(options?: HtmlToTextOptions): (html: string) => string;
}
