"""The roster: grids, members, households, cameras and the 1+10 links, with their invariants.

Pure modules (entities, geometry, invariants, locate, documents, changes) decide; repository
and service do the IO; routes translate HTTP onto the service.
"""
