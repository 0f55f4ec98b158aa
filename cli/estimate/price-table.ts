import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from '../exit-codes';

const rate = z.number().nonnegative();
const byFrameRate = z.strictObject({ upTo30fps: rate, upTo60fps: rate, above60fps: rate });

const byResolution = z.strictObject({ SD: byFrameRate, HD: byFrameRate, UHD: byFrameRate });

const regionPrices = z.strictObject({
  mediaconvert: z.strictObject({
    minimumBilledSeconds: z.number().int().nonnegative(),
    /** The Basic tier (and, in a table without the next field, the one tier its author pays). */
    perOutputMinute: byResolution,
    /**
     * The Professional tier: the high end of the MediaConvert range. A table without it (one of
     * your own, or one written before it existed) gives one tier, taken as what you pay: both ends
     * use perOutputMinute, and only the frame-capture question below is left open.
     */
    professionalPerOutputMinute: byResolution.optional(),
    /**
     * For those who know whether the frame-capture output is billed: true or false settles it and
     * both ends of the range use it. Absent, the low end leaves it unbilled and the high end bills it.
     */
    frameCaptureBilled: z.boolean().optional(),
  }),
  s3: z.strictObject({ storagePerGbMonth: rate, writeRequestsPerThousand: rate, readRequestsPerThousand: rate }),
  lambda: z.strictObject({ requestsPerMillion: rate, perGbSecond: rate }),
  sqs: z.strictObject({ requestsPerMillion: rate }),
  dynamodb: z.strictObject({ writeRequestUnitsPerMillion: rate, readRequestUnitsPerMillion: rate }),
  eventbridge: z.strictObject({ customEventsPerMillion: rate }),
});

const priceFile = z.object({
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD'),
  currency: z.literal('USD'),
  about: z.array(z.string()).optional(),
  sources: z.record(z.string(), z.string()).optional(),
  regions: z.record(z.string(), regionPrices),
});

export type RegionPrices = z.infer<typeof regionPrices>;
export type PriceFile = z.infer<typeof priceFile>;

/** The price table in the repository: dated, per region (see its `about`). */
export const DEFAULT_PRICES = join(__dirname, 'aws-prices.json');

/** Reads and checks a price table, naming every problem in a file a person wrote. */
export function loadPrices(path: string = DEFAULT_PRICES): PriceFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`Cannot read the price table ${path}: ${reason}.`, EXIT.usage);
  }
  const parsed = priceFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new CliError(`The price table ${path} is not usable (its shape is ${DEFAULT_PRICES}'s): ${problems.join('; ')}.`, EXIT.usage);
  }
  return parsed.data;
}

export function pricesFor(table: PriceFile, region: string, path: string): RegionPrices {
  const prices = table.regions[region];
  if (!prices) {
    throw new CliError(
      `The price table ${path} has no prices for ${region} (it has ${Object.keys(table.regions).join(', ')}). ` +
        'Pass --region with one of those, or --prices with a table that has yours.',
      EXIT.usage,
    );
  }
  return prices;
}
