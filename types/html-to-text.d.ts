// html-to-text 10 ships no type declarations; this is the one function we use.
declare module 'html-to-text' {
  export function convert(html: string, options?: { wordwrap?: number | false; selectors?: unknown[] }): string;
}
