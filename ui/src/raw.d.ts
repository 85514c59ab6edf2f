// Vite's `?raw` imports (a file's text), used by tests that read sources of the Rust side.
declare module '*?raw' {
  const text: string;
  export default text;
}
