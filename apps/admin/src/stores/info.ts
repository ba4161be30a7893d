import { defineStore } from 'pinia';
import { ref } from 'vue';
import { infoApi, type ServerInfo } from '../api/info.ts';

/** Where SCIM clients reach this server. Falls back to this page's origin when /api/admin/info is unavailable. */
export function fallbackInfo(origin: string): ServerInfo {
  return { publicUrl: origin, scimBaseUrl: `${origin}/scim_v2/`, tokenEndpoint: `${origin}/oauth/token`, version: '' };
}

export const useInfoStore = defineStore('info', () => {
  const info = ref<ServerInfo | null>(null);

  async function load(): Promise<ServerInfo> {
    if (info.value) return info.value;
    try {
      info.value = await infoApi.get();
    } catch {
      info.value = fallbackInfo(globalThis.location?.origin ?? '');
    }
    return info.value;
  }

  function $reset() {
    info.value = null;
  }

  return { info, load, $reset };
});
