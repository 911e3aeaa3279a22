import { libraryConfig } from '@org/tsup-config';

export default libraryConfig({ index: 'src/index.ts', keyv: 'src/keyv/index.ts' });
