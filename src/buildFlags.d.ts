/** Replaced at build time (scripts/build.mjs): true in the development/test build, false in the production build. */
declare const __QUANTLENS_TEST_HOOKS__: boolean;
