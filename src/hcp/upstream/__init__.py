"""The upstream parts hcp builds: pinned binaries (Go modules, Debian packages) and the component images that
carry them, including the machine image of platform Container.

It sits below `release` (payloads name these images) and `management` (the embedded cluster runs these
binaries), so publishing releases to any registry needs nothing of the embedded management cluster.
"""
