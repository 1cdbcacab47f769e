// The options of html-to-text 10 that domain/html-text.ts sets, as an overload of the one
// function declared in html-to-text.d.ts.
declare module 'html-to-text' {
  export function convert(
    html: string,
    options?: {
      wordwrap?: number | false;
      selectors?: unknown[];
      limits?: { ellipsis?: string; maxBaseElements?: number; maxChildNodes?: number; maxDepth?: number; maxInputLength?: number };
    },
  ): string;
}
