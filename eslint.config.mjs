// Lint rules the CI enforces (`npm run lint`). Type-aware rules catch promises left floating and
// values of type any leaking out of untrusted input; formatting is prettier's job, not eslint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Rules off where code walks JSON whose type is `any` (off the wire, or in tests). */
const UNTYPED_JSON = {
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
  '@typescript-eslint/no-explicit-any': 'off',
};

/** Everything under src/ above the settings readers, as a file in src/core or src/config names it. */
const ABOVE_CONFIG = [
  '../adapters/*',
  '../bot/*',
  '../slack/*',
  '../render/*',
  '../apply/*',
  '../diagnose',
  '../cli',
  '../../handlers/*',
  '../../jobs/*',
];

/** handlers/ and jobs/, as a file anywhere under src/ names them. */
const HANDLERS_AND_JOBS = {
  group: [
    '../handlers/*',
    '../../handlers/*',
    '../../../handlers/*',
    '../jobs/*',
    '../../jobs/*',
    '../../../jobs/*',
  ],
  message: 'only src/bot/app.ts, the composition root, imports handlers/ or jobs/.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.oomdoctor-demo/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // Many async functions implement an async interface without awaiting (the in-memory store).
      '@typescript-eslint/require-await': 'off',
      // Stripping control characters from untrusted text is the point of those expressions.
      'no-control-regex': 'off',
    },
  },
  {
    // These walk Kubernetes objects and Slack payloads as they come off the wire, where
    // client-node's and Bolt's types say `any`; each reads defensively and is tested with real
    // payloads. New code should parse with zod instead and stay out of this list.
    files: [
      'src/adapters/kubernetes-objects.ts',
      'src/adapters/container-choice.ts', // moved out of kubernetes-objects.ts, same walking
      'src/adapters/kubernetes.ts',
      'src/adapters/kubernetes-writer.ts',
      'src/apply/rollout.ts',
      'src/apply/workload.ts',
      'src/diagnose.ts',
      'handlers/apply-actions.ts',
      'handlers/slack-actions.ts',
      'jobs/diagnosis-job.ts',
    ],
    rules: UNTYPED_JSON,
  },
  {
    // Imports point down: src/ never reaches up into handlers/ or jobs/, except at the composition
    // root that wires them. (src/core has a stricter list below, which includes these.)
    files: ['src/**/*.ts'],
    ignores: ['src/bot/app.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [HANDLERS_AND_JOBS],
        },
      ],
    },
  },
  {
    // The middle layers serve the bot and the CLI alike: none of them reaches up into the bot's
    // wiring, its metrics included (a caller passes a counter in).
    files: ['src/adapters/**/*.ts', 'src/apply/**/*.ts', 'src/render/**/*.ts', 'src/slack/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            HANDLERS_AND_JOBS,
            {
              group: ['../bot/*', '../diagnose', '../cli'],
              message: 'src/adapters, src/apply, src/render and src/slack import only lower layers.',
            },
          ],
        },
      ],
    },
  },
  {
    // client-node comes in through one door, which the build bundles (src/adapters/client-node.ts):
    // an import of the package itself would load all of it beside the bundle, and its errors would
    // fail instanceof against the bundle's classes.
    files: ['src/**/*.ts', 'handlers/**/*.ts', 'jobs/**/*.ts'],
    ignores: ['src/adapters/client-node.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kubernetes/client-node',
              message: 'import it from src/adapters/client-node.ts, the one door the build bundles.',
            },
          ],
        },
      ],
    },
  },
  {
    // Settings readers sit just above the core: the adapters read their settings, not the reverse.
    files: ['src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ABOVE_CONFIG,
              message: 'src/config imports only src/core and src/config.',
            },
          ],
        },
      ],
    },
  },
  {
    // The core is pure: no SDK, no network, no file system. Adapters bring the outside world in.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@slack/*',
                '@kubernetes/*',
                '@resvg/*',
                'axios',
                'bull',
                'ioredis',
                'pino',
                'prom-client',
                'undici',
              ],
              message: 'src/core is pure: SDKs belong in src/adapters.',
            },
            {
              group: [
                'node:fs',
                'fs',
                'node:http',
                'http',
                'node:https',
                'https',
                'node:net',
                'net',
                'node:child_process',
                'child_process',
              ],
              message: 'src/core does no I/O.',
            },
            {
              group: [...ABOVE_CONFIG, '../config/*'],
              message: 'src/core imports only src/core.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests poke at untyped JSON from fakes and fixtures on purpose.
      ...UNTYPED_JSON,
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // `ws` is loaded lazily, as the product does, so suites that do not need it never load it.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
