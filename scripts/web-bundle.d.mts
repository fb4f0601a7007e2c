// Types of ./web-bundle.mjs for the TypeScript that imports it (test/web/page.test.ts).
/** Builds dist/web under `root` (the repository). */
export function buildWebPage(root: string): Promise<void>;
