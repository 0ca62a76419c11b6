// Stylesheets are bundled by esbuild (scripts/build-ui.ts); importing one has no value.
declare module '*.css';
