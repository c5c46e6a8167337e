// Lint for the program, its tests, bench, e2e and lab helpers: ESLint's and typescript-eslint's recommended rules.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
    { ignores: ["build/", "build-bench/", "node_modules/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { globals: globals.node },
        rules: {
            // A provider method keeps the engine's signature; a leading underscore marks what it does not use.
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
            // Comments are read as prose; code lines (test expectations quoting whole messages) may run longer.
            "max-len": ["error", { code: 320, comments: 120, ignoreUrls: true, ignorePattern: "^\\s*\\* @(param|returns) " }],
        },
    },
    {
        // Dynamic providers run from the code Pulumi serializes into state: a module they use is loaded with
        // require() inside the function that needs it, never captured from the program.
        files: ["components/kube/*.ts", "components/credentials/csr.ts", "components/credentials/provider.ts", "scripts/*.js"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // Tests, bench and e2e read open JSON: mock inputs, reloaded providers, API server answers.
        files: ["test/**/*.ts", "bench/**/*.ts", "e2e/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
