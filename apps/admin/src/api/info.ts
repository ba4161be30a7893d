import { http } from './client.ts';
import type { ResponseOf } from './types.ts';

export type ServerInfo = ResponseOf<'/api/admin/info', 'get'>;

export const infoApi = {
  get: () => http.get<ServerInfo>('/info'),
};
