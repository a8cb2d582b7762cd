// Linked with every object of libssmc.a forced in (--whole-archive), so each
// undefined reference of the library must be satisfied by the dependencies the
// package declares (ssmcConfig.cmake / ssmc.pc), whatever the public API uses.
// RUN:
int main() { return 0; }
