export declare const adminDistDir: string;
