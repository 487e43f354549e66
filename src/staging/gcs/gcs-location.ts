import { ConfigError } from '../../lib/errors.js';

/**
 * `gs://BUCKET/PREFIX` parsed and checked without loading the GCS SDK, so a typo fails at start-up
 * with a clear message instead of as an HTTP 400 half-way through a run.
 */
export interface GcsLocation {
  bucket: string;
  /** No leading or trailing slash; '' for the bucket root. */
  prefix: string;
}

// https://cloud.google.com/storage/docs/buckets#naming (dotted names up to 222 are not supported here).
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;

export function parseGcsLocation(uri: string): GcsLocation {
  const match = /^gs:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  if (!match) {
    throw new ConfigError(`--stage ${uri}: not a gs:// URI`, { hint: 'Use gs://BUCKET/PREFIX, e.g. gs://my-backfill-stage/polycopy' });
  }
  const bucket = match[1] ?? '';
  if (!BUCKET_PATTERN.test(bucket) || bucket.startsWith('goog')) {
    throw new ConfigError(`--stage ${uri}: invalid bucket name ${JSON.stringify(bucket)}`, {
      hint: 'Bucket names are 3-63 characters of lower-case letters, digits, dashes and underscores, starting and ending with a letter or digit',
    });
  }
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  // Object names may not contain control characters; a prefix with them could never be listed back.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(prefix) || prefix.split('/').some((part) => part === '.' || part === '..')) {
    throw new ConfigError(`--stage ${uri}: invalid object prefix ${JSON.stringify(prefix)}`, {
      hint: 'Use a plain path such as gs://bucket/polycopy/stage',
    });
  }
  if (Buffer.byteLength(prefix) > 512) {
    throw new ConfigError(`--stage ${uri}: prefix longer than 512 bytes`, { hint: 'GCS object names are limited to 1024 bytes; use a shorter prefix' });
  }
  return { bucket, prefix };
}

/** `prefix/name`, or `name` at the bucket root. */
export function objectName(location: GcsLocation, name: string): string {
  return location.prefix ? `${location.prefix}/${name}` : name;
}

export function gcsUri(location: GcsLocation, name?: string): string {
  const path = name === undefined ? location.prefix : objectName(location, name);
  return path ? `gs://${location.bucket}/${path}` : `gs://${location.bucket}`;
}

/** `gs://bucket/object` → its parts; undefined for anything else (a local path). */
export function splitGcsUri(uri: string): { bucket: string; name: string } | undefined {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match ? { bucket: match[1]!, name: match[2]! } : undefined;
}

/** A bucket's placement as GCS reports it (`buckets.get`: location, locationType, customPlacementConfig). */
export interface BucketPlacement {
  /** e.g. `US`, `EU`, `US-CENTRAL1`, `NAM4`. */
  location: string;
  /** `multi-region`, `dual-region` or `region`. */
  locationType: string;
  /** The two regions of a configurable dual-region; empty otherwise. */
  dataLocations: readonly string[];
}
