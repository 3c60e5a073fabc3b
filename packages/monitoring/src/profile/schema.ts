/**
 * The reference profile and the window summary: the two JSON shapes monitoring speaks.
 *
 * A reference profile is computed once from the training columns and embedded in the model
 * package (`trestle-model.json`). Serving bins live traffic on its bins into window
 * summaries; monitoring compares a summary with the profile (or two summaries) without
 * reading the rows again. One TypeBox schema per shape gives the JSON Schema (validation,
 * OpenAPI) and the TypeScript type.
 *
 * Binning rule (shared by profile and windows): a numeric feature has ascending distinct
 * `cuts`; a value `x` in `[min, max]` of the reference falls into bin `#{c in cuts : c <= x}`
 * (so there are `cuts.length + 1` bins, bin i = [lower_i, upper_i) and the last one closed at
 * `max`). Live values below `min` or above `max` are counted apart as `under` / `over`.
 */
import { Type, type Static } from 'typebox';

/** Version of both JSON shapes; bumped on any incompatible change. */
export const PROFILE_VERSION = 1;

const Count = Type.Number({ minimum: 0, description: 'a count of values' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const NumericFeatureProfileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    kind: Type.Literal('numeric'),
    count: Type.Integer({ minimum: 0, description: 'non-missing values' }),
    nulls: Type.Integer({ minimum: 0, description: 'missing values (NaN, null)' }),
    distinct: Type.Integer({ minimum: 0, description: 'distinct non-missing values' }),
    min: NullableNumber,
    max: NullableNumber,
    mean: NullableNumber,
    std: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'population std (ddof 0)' }),
    cuts: Type.Array(Type.Number(), { description: 'ascending distinct inner bin edges' }),
    counts: Type.Array(Count, { description: 'values per bin, cuts.length + 1 entries' }),
    sample: Type.Optional(
      Type.Array(Type.Number(), {
        description: 'every non-missing value, sorted, when the reference is small (exact KS and friends)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CategoricalFeatureProfileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    kind: Type.Literal('categorical'),
    count: Type.Integer({ minimum: 0 }),
    nulls: Type.Integer({ minimum: 0 }),
    distinct: Type.Integer({ minimum: 0 }),
    categories: Type.Array(Type.String(), { description: 'the top-K categories, most frequent first' }),
    counts: Type.Array(Count, { description: 'values per category in `categories`' }),
    otherCount: Type.Integer({ minimum: 0, description: 'values of the categories beyond the top K' }),
    otherCategories: Type.Array(Type.String(), {
      description: 'names of the categories beyond the top K (up to a cap), to tell them from unseen ones',
    }),
    otherCategoriesTruncated: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const FeatureProfileSchema = Type.Union([NumericFeatureProfileSchema, CategoricalFeatureProfileSchema]);

export const PredictionTaskSchema = Type.Union([
  Type.Literal('binary-classification'),
  Type.Literal('multiclass-classification'),
  Type.Literal('regression'),
]);

export const ReferenceProfileSchema = Type.Object(
  {
    format: Type.Literal('trestle.reference-profile'),
    version: Type.Literal(PROFILE_VERSION),
    rows: Type.Integer({ minimum: 0 }),
    features: Type.Array(FeatureProfileSchema),
    prediction: Type.Optional(
      Type.Object(
        {
          task: PredictionTaskSchema,
          /** e.g. `probability` (numeric, fixed bins on [0, 1]) and `label` (categorical), or `value`. */
          outputs: Type.Array(FeatureProfileSchema),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type NumericFeatureProfile = Static<typeof NumericFeatureProfileSchema>;
export type CategoricalFeatureProfile = Static<typeof CategoricalFeatureProfileSchema>;
export type FeatureProfile = Static<typeof FeatureProfileSchema>;
export type PredictionTask = Static<typeof PredictionTaskSchema>;
export type ReferenceProfile = Static<typeof ReferenceProfileSchema>;

export const NumericWindowFeatureSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    kind: Type.Literal('numeric'),
    count: Type.Integer({ minimum: 0, description: 'non-missing numeric values, in range or not' }),
    nulls: Type.Integer({ minimum: 0 }),
    invalid: Type.Integer({ minimum: 0, description: 'values of the wrong type (a string for a number)' }),
    under: Type.Integer({ minimum: 0, description: 'values below the reference min' }),
    over: Type.Integer({ minimum: 0, description: 'values above the reference max' }),
    counts: Type.Array(Count, { description: 'values per reference bin' }),
    sum: Type.Number(),
    sumSquares: Type.Number(),
    underSum: Type.Number(),
    overSum: Type.Number(),
    min: NullableNumber,
    max: NullableNumber,
  },
  { additionalProperties: false },
);

export const CategoricalWindowFeatureSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    kind: Type.Literal('categorical'),
    count: Type.Integer({ minimum: 0 }),
    nulls: Type.Integer({ minimum: 0 }),
    invalid: Type.Integer({ minimum: 0 }),
    counts: Type.Array(Count, { description: 'values per reference category' }),
    other: Type.Integer({ minimum: 0, description: 'values of training categories beyond the top K' }),
    unseen: Type.Integer({ minimum: 0, description: 'values never seen in training' }),
    unseenValues: Type.Record(Type.String(), Count, {
      description: 'the first unseen categories and their counts (bounded)',
    }),
  },
  { additionalProperties: false },
);

export const WindowFeatureSchema = Type.Union([NumericWindowFeatureSchema, CategoricalWindowFeatureSchema]);

export const WindowSummarySchema = Type.Object(
  {
    format: Type.Literal('trestle.window-summary'),
    version: Type.Literal(PROFILE_VERSION),
    binsDigest: Type.String({ description: 'digest of the reference bins; windows merge only on equal digests' }),
    start: Type.Optional(Type.String({ format: 'date-time' })),
    end: Type.Optional(Type.String({ format: 'date-time' })),
    rows: Type.Integer({ minimum: 0 }),
    features: Type.Array(WindowFeatureSchema, { description: 'in reference-profile order' }),
    outputs: Type.Array(WindowFeatureSchema, { description: 'prediction outputs, in profile order' }),
    missingFeatures: Type.Record(Type.String(), Count, { description: 'rows lacking a profiled feature' }),
    unknownFeatures: Type.Record(Type.String(), Count, {
      description: 'inputs not in the reference profile (bounded)',
    }),
  },
  { additionalProperties: false },
);

export type NumericWindowFeature = Static<typeof NumericWindowFeatureSchema>;
export type CategoricalWindowFeature = Static<typeof CategoricalWindowFeatureSchema>;
export type WindowFeature = Static<typeof WindowFeatureSchema>;
export type WindowSummary = Static<typeof WindowSummarySchema>;
