/* Built for the host, not for eBPF: the macro must say so. */
int host_function(int x)
{
	return x * 2;
}
