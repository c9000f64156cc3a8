/** Types of layers.js for the TypeScript tests that use it. */
export declare const LAYERS: { name: string; test: (relativePath: string) => boolean }[];
export declare function layerOf(relativePath: string): { index: number; name: string } | undefined;
declare const plugin: { rules: Record<string, unknown> };
export default plugin;
