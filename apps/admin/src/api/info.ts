import { http } from './client.ts';

export interface ServerInfo {
  publicUrl: string;
  scimBaseUrl: string;
  tokenEndpoint: string;
}

export const infoApi = {
  get: () => http.get<ServerInfo>('/info'),
};
