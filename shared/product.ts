/** The product version the API reports (the seed's release line) and this build. */
export const PRODUCT_VERSION = {
  version: '22.5.0',
  build: '1',
  long_display: '22.5.0-1 (serverless supercluster)',
  short_display: '22.5.0',
} as const;
