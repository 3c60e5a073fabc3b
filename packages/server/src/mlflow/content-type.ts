/**
 * The Content-Type MLflow's server sends an artifact with (`_guess_mime_type` in
 * `mlflow/server/handlers.py`): `text/plain` for its list of text extensions (so the web UI
 * shows logs, YAML, JSON and `MLmodel` files), the usual type for images, PDF, HTML and media,
 * `application/octet-stream` for anything else. Downloads stay attachments with `nosniff`.
 */

/** MLflow's `_TEXT_EXTENSIONS` (a file with no extension is looked up by its whole name). */
const TEXT_EXTENSIONS: ReadonlySet<string> = new Set([
  'txt',
  'log',
  'err',
  'cfg',
  'conf',
  'cnf',
  'cf',
  'ini',
  'properties',
  'prop',
  'hocon',
  'toml',
  'yaml',
  'yml',
  'xml',
  'json',
  'js',
  'py',
  'py3',
  'csv',
  'tsv',
  'md',
  'rst',
  'MLmodel',
  'mlproject',
]);

/** What Python's `mimetypes.guess_type` answers for the other types an ML run logs. */
const KNOWN_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  ico: 'image/vnd.microsoft.icon',
  pdf: 'application/pdf',
  html: 'text/html',
  htm: 'text/html',
  wav: 'audio/x-wav',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  zip: 'application/zip',
  tar: 'application/x-tar',
};

/**
 * The Content-Type of an artifact, from its file name as MLflow guesses it.
 *
 * @example artifactContentType('model/MLmodel') // 'text/plain'
 * @example artifactContentType('plots/roc.png')  // 'image/png'
 * @example artifactContentType('model.onnx')     // 'application/octet-stream'
 */
export function artifactContentType(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const extension = dot === -1 ? name : name.slice(dot + 1);
  if (TEXT_EXTENSIONS.has(extension)) return 'text/plain';
  return KNOWN_TYPES[extension.toLowerCase()] ?? 'application/octet-stream';
}
