// ESLint for the map's own browser code (atlas/js): run from the repository's root,
//   js/dev/node_modules/.bin/eslint --config js/dev/eslint.config.cjs atlas/js
// (tests/test_browser_code.py does).
const js = require("@eslint/js");

const browser = {window: "readonly", document: "readonly", self: "readonly", setTimeout: "readonly",
  L: "readonly", Supercluster: "readonly", AtlasCore: "readonly", module: "readonly"};

module.exports = [
  js.configs.recommended,
  {
    files: ["atlas/js/**/*.js"],
    languageOptions: {ecmaVersion: 2020, sourceType: "script", globals: browser},
    rules: {
      "eqeqeq": ["error", "always", {null: "ignore"}],
      "no-var": "off",
      "prefer-const": "error",
      "no-shadow": "off",
      "no-implicit-globals": "off",
      "no-unused-vars": ["error", {args: "none"}],
      "semi": "error",
      "curly": ["error", "multi-line"],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-restricted-properties": ["error",
        {property: "innerHTML", message: "texts enter the DOM with textContent"},
        {property: "outerHTML", message: "texts enter the DOM with textContent"},
        {property: "insertAdjacentHTML", message: "texts enter the DOM with textContent"}],
    },
  },
  {
    files: ["atlas/js/test/**/*.js"],
    languageOptions: {sourceType: "commonjs", globals: {require: "readonly", module: "writable", __dirname: "readonly"}},
  },
];
